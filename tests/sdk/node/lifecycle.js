#!/usr/bin/env node
// An ad-delivery audit's whole lifecycle through Meta's official Node.js Business SDK
// (facebook-nodejs-business-sdk, pinned in package.json / package-lock.json), unchanged but
// for the base URL, against `adskew mock-server`.
//
// Every check asserts Meta's documented behaviour, not what any version of the mock does.
// Environment:
//   ADSKEW_MOCK_URL     the mock's origin, e.g. http://127.0.0.1:8787 (no version, no slash)
//   ADSKEW_MOCK_TOKEN   any non-empty access token
//   ADSKEW_MOCK_ACCOUNT ad account id (default act_1)
// Prints `ok NAME` or `FAIL NAME: reason` per check, then `N passed, M failed`; exits 1 if
// any check failed. Run by tests/meta_sdks.rs; install with `bash scripts/install-test-deps.sh`.
'use strict';

const crypto = require('crypto');
const zlib = require('zlib');
const bizSdk = require('facebook-nodejs-business-sdk');

const {
  FacebookAdsApi, FacebookAdsApiBatch, AdAccount, Campaign, AdSet, Ad, AdCreative,
  AdReportRun, CustomAudience,
} = bizSdk;

const BASE = process.env.ADSKEW_MOCK_URL.replace(/\/+$/, '');
const TOKEN = process.env.ADSKEW_MOCK_TOKEN;
const ACCOUNT = process.env.ADSKEW_MOCK_ACCOUNT || 'act_1';
const PAGE_ID = '2000';

// The only change to the SDK: its base URL. FacebookAdsApi.call() builds
// `${FacebookAdsApi.GRAPH}/${FacebookAdsApi.VERSION}/<path>` from the static getter GRAPH
// (the SDK's own objects never pass call()'s urlOverride), so the getter is redefined; the
// class's static properties are configurable.
Object.defineProperty(FacebookAdsApi, 'GRAPH', { get: () => BASE, configurable: true });
const api = new FacebookAdsApi(TOKEN, 'en_US', false); // false: no crash reports
FacebookAdsApi.setDefaultApi(api);

const PASSED = [];
const FAILED = [];
const S = {}; // ids and values later checks need

class Missing extends Error {}

function need(...keys) {
  for (const k of keys) {
    if (S[k] === undefined || S[k] === null) {
      throw new Missing(`needs \`${k}\` from an earlier check that failed`);
    }
  }
  return keys.length === 1 ? S[keys[0]] : keys.map(k => S[k]);
}

function describe(e) {
  if (e && e.name === 'FacebookRequestError') {
    const r = e.response || {};
    return `FacebookRequestError http=${e.status} code=${r.code} subcode=${r.error_subcode} message=${JSON.stringify(e.message)}`;
  }
  if (e instanceof AssertionFailed || e instanceof Missing) return e.message;
  const where = ((e && e.stack) || '').split('\n').find(l => l.includes('lifecycle.js')) || '';
  return `${e && e.name}: ${e && e.message} ${where.trim()}`;
}

class AssertionFailed extends Error {}

function assert(cond, message) {
  if (!cond) throw new AssertionFailed(message || 'assertion failed');
}

function eq(what, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  assert(g === w, `${what} is ${g}, want ${w}`);
}

const CHECKS = [];
function check(name, fn) {
  CHECKS.push([name, fn]);
}

async function expectError(fn, code, subcode) {
  let result;
  try {
    result = await fn();
  } catch (e) {
    if (!e || e.name !== 'FacebookRequestError') throw e;
    const r = e.response || {};
    assert(r.code === code, `error code ${r.code} (want ${code}): ${JSON.stringify(e.message)}`);
    if (subcode !== undefined) {
      assert(r.error_subcode === subcode,
        `error_subcode ${r.error_subcode} (want ${subcode}): ${JSON.stringify(e.message)}`);
    }
    assert(e.status >= 400, `HTTP ${e.status} for an error`);
    return;
  }
  const what = Array.isArray(result) ? `${result.length} rows` : result && result.id ? `id ${result.id}` : 'no error';
  throw new AssertionFailed(`succeeded (${what}); Meta refuses it with code ${code}`);
}

async function admin(method, path) {
  const r = await fetch(BASE + path, { method });
  return r.json();
}

function pngBytes() {
  const crcTable = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  const crc = buf => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (kind, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(kind), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.from([0, 0, 0, 4, 0, 0, 0, 4, 8, 2, 0, 0, 0]);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from([30, 30, 200, 30, 30, 200, 30, 30, 200, 30, 30, 200])]);
  const raw = Buffer.concat([row, row, row, row]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// Meta's datetime fields read back as 2026-03-02T00:00:00+0000.
const parseTime = text => new Date(String(text).replace(/([+-]\d\d)(\d\d)$/, '$1:$2')).getTime();
const isoDate = ms => new Date(ms).toISOString().slice(0, 10);
const sha256 = s => crypto.createHash('sha256').update(s).digest('hex');
const TAG = `sdkjs${Date.now() % 1e8}`;
const ACC = new AdAccount(ACCOUNT);
const TARGETING = {
  geo_locations: { countries: ['US'] },
  age_min: 18,
  age_max: 65,
  targeting_automation: { advantage_audience: 0 },
};
const INSIGHT_FIELDS = ['ad_id', 'impressions', 'reach', 'clicks', 'spend'];
const EMAILS = Array.from({ length: 7 }, (_, i) => `person${i}@example.org`);
let NOW, SINCE, UNTIL;
// A fresh object per call: the SDK writes into the params object it is given (fields,
// access_token, the node's id), which would leak into the next request.
const insightParams = (extra = {}) => Object.assign({
  level: 'ad',
  breakdowns: ['age', 'gender'],
  time_range: { since: SINCE, until: UNTIL },
  time_increment: 1,
}, extra);

function campaignParams(name, extra = {}) {
  return Object.assign({
    name,
    objective: 'OUTCOME_TRAFFIC',
    status: 'PAUSED',
    special_ad_categories: ['EMPLOYMENT'],
    special_ad_category_country: ['US'],
    is_adset_budget_sharing_enabled: false,
  }, extra);
}

function adsetParams(name, campaignId, targeting = TARGETING, extra = {}) {
  return Object.assign({
    name,
    campaign_id: campaignId,
    daily_budget: 1000,
    billing_event: 'IMPRESSIONS',
    optimization_goal: 'LINK_CLICKS',
    bid_strategy: 'LOWEST_COST_WITHOUT_CAP',
    targeting,
    start_time: new Date(NOW).toISOString().replace('.000Z', '+0000'), // 2026-03-02T00:00:00+0000
    status: 'PAUSED',
    dsa_beneficiary: 'Audit Lab',
    dsa_payor: 'Audit Lab',
  }, extra);
}

// ---- account and lookups ------------------------------------------------------------------

check('account.read', async () => {
  const acc = await new AdAccount(ACCOUNT).get(['account_id', 'currency', 'timezone_name']);
  eq('id', acc.id, ACCOUNT);
  eq('account_id', acc.account_id, ACCOUNT.slice(4));
  assert(acc.timezone_name, `no timezone_name in ${JSON.stringify(acc._data)}`);
});

check('search.adgeolocation_regions', async () => {
  // The Node SDK has no TargetingSearch class: api.call() is its documented way to any path.
  const r = await api.call('GET', ['search'], { type: 'adgeolocation', location_types: ['region'], q: '' });
  assert(Array.isArray(r.data) && r.data.length > 0, `no region found: ${JSON.stringify(r)}`);
  for (const x of r.data) {
    assert(x.key && x.name, `region without key/name: ${JSON.stringify(x)}`);
    eq('type', x.type, 'region');
  }
  S.region_key = String(r.data[0].key);
});

// ---- creation, in Meta's order: campaign -> ad set -> creative -> ad -----------------------

check('campaign.create', async () => {
  const c = await ACC.createCampaign([], campaignParams(`${TAG}/audit`));
  assert(/^\d+$/.test(c.id || ''), `id ${JSON.stringify(c.id)} is not a numeric Graph id`);
  S.campaign = c.id;
});

check('campaign.read_back', async () => {
  const c = await new Campaign(need('campaign')).get(['name', 'objective', 'status', 'effective_status',
    'special_ad_categories', 'special_ad_category_country', 'is_adset_budget_sharing_enabled']);
  eq('id', c.id, S.campaign);
  eq('name', c.name, `${TAG}/audit`);
  eq('objective', c.objective, 'OUTCOME_TRAFFIC');
  eq('status', c.status, 'PAUSED');
  eq('effective_status', c.effective_status, 'PAUSED');
  eq('special_ad_categories', c.special_ad_categories, ['EMPLOYMENT']);
  eq('special_ad_category_country', c.special_ad_category_country, ['US']);
  eq('is_adset_budget_sharing_enabled', c.is_adset_budget_sharing_enabled, false);
});

check('campaign.create_scratch', async () => {
  const p = campaignParams(`${TAG}/scratch`, { special_ad_categories: [] });
  delete p.special_ad_category_country;
  S.scratch = (await ACC.createCampaign([], p)).id;
  assert(/^\d+$/.test(S.scratch || ''), `id ${JSON.stringify(S.scratch)}`);
});

check('adset.create', async () => {
  const a = await ACC.createAdSet([], adsetParams(`${TAG}/audit/adset`, need('campaign')));
  assert(/^\d+$/.test(a.id || ''), `id ${JSON.stringify(a.id)}`);
  S.adset = a.id;
});

check('adset.read_back', async () => {
  const a = await new AdSet(need('adset')).get(['name', 'campaign_id', 'daily_budget', 'billing_event',
    'optimization_goal', 'targeting', 'status', 'start_time', 'dsa_beneficiary', 'dsa_payor']);
  eq('name', a.name, `${TAG}/audit/adset`);
  eq('campaign_id', a.campaign_id, S.campaign);
  eq('daily_budget', a.daily_budget, '1000'); // Meta returns money as numeric strings
  eq('billing_event', a.billing_event, 'IMPRESSIONS');
  eq('optimization_goal', a.optimization_goal, 'LINK_CLICKS');
  eq('status', a.status, 'PAUSED');
  eq('targeting.geo_locations.countries', a.targeting.geo_locations.countries, ['US']);
  eq('targeting.targeting_automation.advantage_audience', a.targeting.targeting_automation.advantage_audience, 0);
  eq('start_time', new Date(parseTime(a.start_time)).toISOString(), new Date(NOW).toISOString());
  eq('dsa_beneficiary', a.dsa_beneficiary, 'Audit Lab');
  eq('dsa_payor', a.dsa_payor, 'Audit Lab');
});

check('adset.create_by_region_key', async () => {
  const key = need('region_key');
  const targeting = Object.assign({}, TARGETING, { geo_locations: { regions: [{ key }] } });
  const a = await ACC.createAdSet([], adsetParams(`${TAG}/audit/adset-region`, need('campaign'), targeting));
  const back = await new AdSet(a.id).get(['targeting']);
  eq('targeting.geo_locations.regions[0].key', String(back.targeting.geo_locations.regions[0].key), key);
});

check('image.upload_bytes', async () => {
  // The Node SDK cannot upload files (createAdImage takes no files, and Http drops the body
  // when files are given): images go up as base64 `bytes`, answered under images.bytes.
  const img = await ACC.createAdImage([], { bytes: pngBytes().toString('base64') });
  const entry = img.images && img.images.bytes;
  assert(entry, `no images.bytes in ${JSON.stringify(img._data)}`);
  assert(/^[0-9a-f]{32}$/.test(entry.hash || ''), `hash ${JSON.stringify(entry.hash)} is not 32 hex digits`);
  assert(/^https?:/.test(entry.url || ''), `no url: ${JSON.stringify(entry)}`);
  S.image_hash = entry.hash;
});

function creativeParams(key) {
  return {
    name: `${TAG}/audit/${key}`, // the simulator reads the ad key after the last '/'
    object_story_spec: {
      page_id: PAGE_ID,
      link_data: {
        link: 'https://jobs.example.org/driver',
        message: 'We are hiring drivers.',
        name: 'Delivery driver',
        image_hash: need('image_hash'),
        call_to_action: { type: 'APPLY_NOW', value: { link: 'https://jobs.example.org/driver' } },
      },
    },
    degrees_of_freedom_spec: {
      creative_features_spec: {
        image_touchups: { enroll_status: 'OPT_OUT' },
        text_optimizations: { enroll_status: 'OPT_OUT' },
      },
    },
  };
}

for (const key of ['ad_a', 'ad_b']) {
  check(`creative.create_${key}`, async () => {
    const c = await ACC.createAdCreative([], creativeParams(key));
    assert(/^\d+$/.test(c.id || ''), `id ${JSON.stringify(c.id)}`);
    S[`creative_${key}`] = c.id;
  });
}

check('creative.read_back', async () => {
  const c = await new AdCreative(need('creative_ad_a')).get(['name', 'object_story_spec']);
  eq('name', c.name, `${TAG}/audit/ad_a`);
  eq('object_story_spec.link_data.image_hash', c.object_story_spec.link_data.image_hash, S.image_hash);
  eq('object_story_spec.link_data.link', c.object_story_spec.link_data.link, 'https://jobs.example.org/driver');
});

for (const key of ['ad_a', 'ad_b']) {
  check(`ad.create_${key}`, async () => {
    const a = await ACC.createAd([], {
      name: `${TAG}/audit/${key}`,
      adset_id: need('adset'),
      creative: { creative_id: need(`creative_${key}`) },
      status: 'PAUSED',
    });
    assert(/^\d+$/.test(a.id || ''), `id ${JSON.stringify(a.id)}`);
    S[key] = a.id;
  });
}

check('ad.read_back', async () => {
  const a = await new Ad(need('ad_a')).get(['name', 'adset_id', 'campaign_id', 'creative', 'status']);
  eq('name', a.name, `${TAG}/audit/ad_a`);
  eq('adset_id', a.adset_id, S.adset);
  eq('campaign_id', a.campaign_id, S.campaign);
  eq('creative.id', a.creative && a.creative.id, S.creative_ad_a);
  eq('status', a.status, 'PAUSED');
});

// ---- statuses and updates -----------------------------------------------------------------

check('status.effective_campaign_paused', async () => {
  for (const node of [new AdSet(need('adset')), new Ad(need('ad_a')), new Ad(need('ad_b'))]) {
    const r = await node.update([], { status: 'ACTIVE' });
    eq(`update ${node.id}`, r, { success: true });
  }
  const ad = await new Ad(S.ad_a).get(['status', 'effective_status']);
  eq('ad status', ad.status, 'ACTIVE');
  eq('ad effective_status (campaign paused)', ad.effective_status, 'CAMPAIGN_PAUSED');
  const adset = await new AdSet(S.adset).get(['effective_status']);
  eq('ad set effective_status (campaign paused)', adset.effective_status, 'CAMPAIGN_PAUSED');
});

check('update.adset_name_and_budget', async () => {
  const r = await new AdSet(need('adset')).update([], { name: `${TAG}/audit/adset-v2`, daily_budget: 1500 });
  eq('answer', r, { success: true });
  const back = await new AdSet(S.adset).get(['name', 'daily_budget']);
  eq('name', back.name, `${TAG}/audit/adset-v2`);
  eq('daily_budget', back.daily_budget, '1500');
});

check('update.campaign_name_and_status', async () => {
  const r = await new Campaign(need('campaign')).update([], { name: `${TAG}/audit-v2`, status: 'ACTIVE' });
  eq('answer', r, { success: true });
  const back = await new Campaign(S.campaign).get(['name', 'status', 'effective_status']);
  eq('name', back.name, `${TAG}/audit-v2`);
  eq('status', back.status, 'ACTIVE');
  eq('effective_status', back.effective_status, 'ACTIVE');
});

// ---- edges ----------------------------------------------------------------------------------

async function all(cursorPromise) {
  const cursor = await cursorPromise;
  const out = [...cursor];
  let pages = 0;
  while (cursor.hasNext() && pages++ < 50) {
    await cursor.next();
    out.push(...cursor);
  }
  return { rows: out, summary: cursor.summary };
}

check('list.campaigns_filtered_with_summary', async () => {
  need('campaign', 'scratch');
  const { rows, summary } = await all(ACC.getCampaigns(['name', 'status'], {
    filtering: [{ field: 'name', operator: 'CONTAIN', value: TAG }],
    summary: true,
  }));
  eq('campaign ids', rows.map(c => c.id).sort(), [S.campaign, S.scratch].sort());
  assert(summary, 'no summary in the answer');
  eq('summary.total_count', summary.total_count, rows.length);
});

check('list.campaign_ads', async () => {
  const { rows } = await all(new Campaign(need('campaign')).getAds(['name', 'adset_id', 'effective_status']));
  eq('ad ids', rows.map(a => a.id).sort(), [need('ad_a'), need('ad_b')].sort());
  for (const a of rows) eq(`ad ${a.id} adset_id`, a.adset_id, S.adset);
});

check('clock.advance', async () => {
  const to = new Date(NOW + 4 * 86400e3).toISOString().replace('.000Z', 'Z');
  const got = await admin('POST', `/__admin/clock?to=${encodeURIComponent(to)}`);
  eq('clock', new Date(got.now).getTime(), NOW + 4 * 86400e3);
});

check('status.effective_active', async () => {
  const ad = await new Ad(need('ad_a')).get(['effective_status']);
  eq('ad effective_status', ad.effective_status, 'ACTIVE');
});

// ---- insights -------------------------------------------------------------------------------

const plain = rows => rows.map(r => Object.assign({}, r._data));
const canon = rows => rows.map(r => JSON.stringify(Object.keys(r).sort().reduce((o, k) => (o[k] = r[k], o), {}))).sort();

check('insights.sync_breakdowns', async () => {
  const { rows: cursorRows } = await all(new Campaign(need('campaign')).getInsights(INSIGHT_FIELDS, insightParams()));
  const rows = plain(cursorRows);
  assert(rows.length > 0, 'no rows although the campaign delivered');
  const allowed = new Set([...INSIGHT_FIELDS, 'age', 'gender', 'date_start', 'date_stop']);
  for (const r of rows) {
    const extra = Object.keys(r).filter(k => !allowed.has(k));
    assert(extra.length === 0, `unexpected keys ${JSON.stringify(extra)} in ${JSON.stringify(r)}`);
    for (const k of ['ad_id', 'impressions', 'age', 'gender', 'date_start', 'date_stop']) {
      assert(k in r, `row without ${k}: ${JSON.stringify(r)}`);
    }
    eq('daily row date_stop', r.date_stop, r.date_start);
    assert(SINCE <= r.date_start && r.date_start <= UNTIL, `date_start ${r.date_start} outside ${SINCE}..${UNTIL}`);
    assert([S.ad_a, S.ad_b].includes(r.ad_id), `ad_id ${r.ad_id} is not one of ours`);
    assert(['female', 'male', 'unknown'].includes(r.gender), `gender ${JSON.stringify(r.gender)}`);
    assert(['13-17', '18-24', '25-34', '35-44', '45-54', '55-64', '65+', 'Unknown'].includes(r.age),
      `age ${JSON.stringify(r.age)}`);
    assert(typeof r.impressions === 'string' && /^\d+$/.test(r.impressions),
      `impressions ${JSON.stringify(r.impressions)} is not a numeric string`);
  }
  assert(rows.reduce((s, r) => s + Number(r.impressions), 0) > 0, 'no impressions in any row');
  S.sync_rows = rows;
});

check('insights.async_report_run', async () => {
  const job = await new Campaign(need('campaign')).getInsightsAsync(INSIGHT_FIELDS, insightParams());
  assert(job instanceof AdReportRun, `got ${job && job.constructor.name}`);
  assert(/^\d+$/.test(job.id || ''), `report_run_id ${JSON.stringify(job.id)}`);
  const deadline = Date.now() + 30e3;
  for (;;) {
    await job.get(['async_status', 'async_percent_completion']);
    if (!['Job Not Started', 'Job Started', 'Job Running'].includes(job.async_status)) break;
    assert(Date.now() < deadline, `still ${job.async_status} after 30 s`);
    await new Promise(r => setTimeout(r, 50));
  }
  eq('async_status', job.async_status, 'Job Completed');
  eq('async_percent_completion', job.async_percent_completion, 100);
  const { rows } = await all(job.getInsights([], {}));
  const sync = need('sync_rows');
  eq(`${rows.length} async rows against ${sync.length} sync rows`, canon(plain(rows)), canon(sync));
});

// ---- batch ----------------------------------------------------------------------------------

check('batch.in_order', async () => {
  const ids = need('campaign', 'adset', 'ad_a', 'ad_b');
  const batch = new FacebookAdsApiBatch(api);
  const answers = [];
  const ok = r => answers.push(['ok', r.body]);
  const bad = r => answers.push(['fail', r.body]);
  for (const id of ids) batch.add('GET', [id], { fields: 'name' }, null, ok, bad);
  batch.add('POST', [ids[1]], { name: `${TAG}/audit/adset-v3` }, null, ok, bad);
  const retry = await batch.execute();
  assert(!retry, 'some batch answers were missing');
  eq('answers', answers.map(a => a[0]), ['ok', 'ok', 'ok', 'ok', 'ok']);
  eq('ids in order', answers.slice(0, 4).map(a => a[1].id), ids);
  eq('update answer', answers[4][1], { success: true });
  eq('name after batch update', (await new AdSet(ids[1]).get(['name'])).name, `${TAG}/audit/adset-v3`);
});

// ---- custom audience ------------------------------------------------------------------------

check('audience.create', async () => {
  const a = await ACC.createCustomAudience([], {
    name: `${TAG}/list`,
    subtype: 'CUSTOM',
    description: 'audit seed list',
    customer_file_source: 'USER_PROVIDED_ONLY',
  });
  assert(/^\d+$/.test(a.id || ''), `id ${JSON.stringify(a.id)}`);
  S.audience = a.id;
});

// The Node SDK does not hash: the caller normalises and SHA-256es, as Meta requires.
const hashed = emails => emails.map(e => sha256(e.trim().toLowerCase()));

check('audience.add_users_hashed', async () => {
  const r = await new CustomAudience(need('audience')).createUser([], {
    payload: { schema: 'EMAIL_SHA256', data: hashed(EMAILS) },
  });
  eq('num_received', r.num_received, EMAILS.length);
  eq('num_invalid_entries', r.num_invalid_entries, 0);
  eq('audience_id', String(r.audience_id), S.audience);
});

check('audience.remove_users_hashed', async () => {
  const r = await new CustomAudience(need('audience')).deleteUsers({
    payload: { schema: 'EMAIL_SHA256', data: hashed(EMAILS.slice(0, 2)) },
  });
  eq('num_received', r.num_received, 2);
  eq('num_invalid_entries', r.num_invalid_entries, 0);
});

check('audience.usersreplace', async () => {
  const data = hashed(EMAILS.slice(0, 3));
  const r = await new CustomAudience(need('audience')).createUsersReplace([], {
    payload: { schema: 'EMAIL_SHA256', data },
    session: { session_id: 9001, batch_seq: 1, last_batch_flag: true, estimated_num_total: data.length },
  });
  eq('num_received', r.num_received, data.length);
  eq('num_invalid_entries', r.num_invalid_entries, 0);
});

// ---- rules Meta enforces --------------------------------------------------------------------

// Each rule check changes one thing in a request that succeeded above (its positive control,
// required through need()), so a server that refuses everything cannot pass it.

check('rule.campaign_needs_budget_sharing_flag', async () => {
  need('campaign');
  const p = campaignParams(`${TAG}/no-flag`);
  delete p.is_adset_budget_sharing_enabled;
  await expectError(() => ACC.createCampaign([], p), 100);
});

check('rule.adset_needs_advantage_audience', async () => {
  need('adset');
  const t = Object.assign({}, TARGETING);
  delete t.targeting_automation;
  await expectError(() => ACC.createAdSet([], adsetParams(`${TAG}/no-aa`, need('campaign'), t)), 100, 1870227);
});

check('rule.eu_adset_needs_dsa', async () => {
  const t = Object.assign({}, TARGETING, { geo_locations: { countries: ['FR'] } });
  const p = adsetParams(`${TAG}/fr`, need('scratch'), t);
  delete p.dsa_beneficiary;
  delete p.dsa_payor;
  await expectError(() => ACC.createAdSet([], p), 100);
  // The positive control: the same ad set with both DSA fields is accepted.
  const ok = await ACC.createAdSet([], adsetParams(`${TAG}/fr-dsa`, S.scratch, t));
  assert(/^\d+$/.test(ok.id || ''), `FR ad set with dsa fields: id ${JSON.stringify(ok.id)}`);
});

check('rule.unknown_param', async () => {
  need('campaign');
  await expectError(() => ACC.createCampaign([], campaignParams(`${TAG}/x`, { not_a_param: '1' })), 100);
});

check('rule.bad_enum_value', async () => {
  need('campaign');
  await expectError(() => ACC.createCampaign([], campaignParams(`${TAG}/x`, { objective: 'OUTCOME_NOPE' })), 100);
});

check('rule.invalid_breakdown_combination', async () => {
  need('sync_rows');
  const params = insightParams({ breakdowns: ['age', 'region'] });
  await expectError(() => new Campaign(need('campaign')).getInsights(['impressions'], params), 100);
});

// ---- archive and delete ---------------------------------------------------------------------

check('archive.ad', async () => {
  eq('answer', await new Ad(need('ad_b')).update([], { status: 'ARCHIVED' }), { success: true });
  const back = await new Ad(S.ad_b).get(['status', 'effective_status']);
  eq('status', back.status, 'ARCHIVED');
  eq('effective_status', back.effective_status, 'ARCHIVED');
});

check('delete.campaign', async () => {
  eq('answer', await new Campaign(need('scratch')).delete([], {}), { success: true });
  // A deleted object is still readable by its id, with status DELETED ...
  const back = await new Campaign(S.scratch).get(['status', 'effective_status']);
  eq('status', back.status, 'DELETED');
  eq('effective_status', back.effective_status, 'DELETED');
  // ... but no longer listed on its account's edge.
  const { rows } = await all(ACC.getCampaigns(['name'], {
    filtering: [{ field: 'name', operator: 'CONTAIN', value: TAG }],
  }));
  assert(!rows.some(c => c.id === S.scratch), 'a deleted campaign is still listed');
});

(async () => {
  const clock = await admin('GET', '/__admin/clock');
  NOW = new Date(clock.now).getTime();
  SINCE = isoDate(NOW - 86400e3);
  UNTIL = isoDate(NOW + 2 * 86400e3);
  for (const [name, fn] of CHECKS) {
    try {
      await fn();
      PASSED.push(name);
      console.log(`ok ${name}`);
    } catch (e) {
      FAILED.push(name);
      console.log(`FAIL ${name}: ${describe(e)}`.replace(/\n/g, ' '));
    }
  }
  console.log(`${PASSED.length} passed, ${FAILED.length} failed`);
  process.exitCode = FAILED.length ? 1 : 0;
})().catch(e => {
  console.log(`FAIL setup: ${describe(e)}`);
  console.log(`${PASSED.length} passed, ${FAILED.length + 1} failed`);
  process.exitCode = 1;
});
