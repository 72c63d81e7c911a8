#!/usr/bin/env python3
"""An ad-delivery audit's whole lifecycle through Meta's official Python Business SDK
(`facebook-business`, pinned in tests/sdk/python/requirements.txt), unchanged but for the
base URL, against `adskew mock-server`.

Every check asserts Meta's documented behaviour, not what any version of the mock does.
Environment:
  ADSKEW_MOCK_URL     the mock's origin, e.g. http://127.0.0.1:8787 (no version, no slash)
  ADSKEW_MOCK_TOKEN   any non-empty access token
  ADSKEW_MOCK_ACCOUNT ad account id (default act_1)
Prints `ok NAME` or `FAIL NAME: reason` per check, then `N passed, M failed`; exits 1 if any
check failed. Run by tests/meta_sdks.rs; install with `bash scripts/install-test-deps.sh`.
"""
import datetime as dt
import hashlib
import json
import os
import re
import struct
import sys
import tempfile
import time
import traceback
import urllib.request
import warnings
import zlib

from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adcreative import AdCreative
from facebook_business.adobjects.adimage import AdImage
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign
from facebook_business.adobjects.customaudience import CustomAudience
from facebook_business.adobjects.targetingsearch import TargetingSearch
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

# The SDK warns (does not fail) on parameters and enum values its generated tables do not
# know; the rule checks send such values on purpose.
warnings.simplefilter("ignore")

BASE = os.environ["ADSKEW_MOCK_URL"].rstrip("/")
TOKEN = os.environ["ADSKEW_MOCK_TOKEN"]
ACCOUNT = os.environ.get("ADSKEW_MOCK_ACCOUNT", "act_1")
PAGE_ID = "2000"

# The only change to the SDK: its base URL. GRAPH is a class attribute of FacebookSession
# ("the graph url without an ending forward-slash"); FacebookAdsApi.call() builds
# GRAPH/<version>/<node>/<edge> from the session's GRAPH, and a few helpers
# (TargetingSearch.search, ProductCatalog, Conversions API) read the class attribute
# directly, so it is set on the class, before any session exists.
FacebookSession.GRAPH = BASE
session = FacebookSession(access_token=TOKEN)
api = FacebookAdsApi(session)  # not FacebookAdsApi.init(): that also enables crash reports
FacebookAdsApi.set_default_api(api)

PASSED, FAILED = [], []
S = {}  # ids and values later checks need


class Missing(Exception):
    pass


def need(*keys):
    for k in keys:
        if S.get(k) is None:
            raise Missing(f"needs `{k}` from an earlier check that failed")
    return [S[k] for k in keys] if len(keys) > 1 else S[keys[0]]


def describe(e):
    if isinstance(e, FacebookRequestError):
        return (f"FacebookRequestError http={e.http_status()} code={e.api_error_code()} "
                f"subcode={e.api_error_subcode()} message={e.api_error_message()!r}")
    if isinstance(e, (AssertionError, Missing)):
        return str(e) or "assertion failed"
    ours = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == __file__]
    return f"{type(e).__name__}: {e} (lifecycle.py:{ours[-1].lineno if ours else '?'})"


def check(name):
    def run(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            FAILED.append(name)
            print(f"FAIL {name}: {describe(e)}".replace("\n", " "), flush=True)
        else:
            PASSED.append(name)
            print(f"ok {name}", flush=True)
        return fn
    return run


def expect_error(fn, code, subcode=None):
    """Runs fn, which must fail with Meta's error envelope carrying `code` (and `subcode`)."""
    try:
        fn()
    except FacebookRequestError as e:
        assert e.api_error_code() == code, f"error code {e.api_error_code()} (want {code}): {e.api_error_message()!r}"
        if subcode is not None:
            assert e.api_error_subcode() == subcode, \
                f"error_subcode {e.api_error_subcode()} (want {subcode}): {e.api_error_message()!r}"
        assert e.http_status() >= 400, f"HTTP {e.http_status()} for an error"
        return
    raise AssertionError(f"succeeded; Meta refuses it with code {code}")


def eq(what, got, want):
    assert got == want, f"{what} is {got!r}, want {want!r}"


def admin(method, path):
    req = urllib.request.Request(BASE + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def parse_time(text):
    """Meta's datetime fields read back as 2026-03-02T00:00:00+0000."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")


def png_bytes():
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes([200, 30, 30]) * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


NOW = parse_time(re.sub(r"([+-]\d\d):(\d\d)$", r"\1\2",
                        admin("GET", "/__admin/clock")["now"].replace("Z", "+00:00")))
TAG = f"sdkpy{int(time.time() * 1000) % 10**8}"  # unique per run, so list filters see only ours
ACC = AdAccount(ACCOUNT)
TARGETING = {
    "geo_locations": {"countries": ["US"]},
    "age_min": 18,
    "age_max": 65,
    "targeting_automation": {"advantage_audience": 0},
}
DSA = {"dsa_beneficiary": "Audit Lab", "dsa_payor": "Audit Lab"}
INSIGHT_FIELDS = ["ad_id", "impressions", "reach", "clicks", "spend"]
SINCE = (NOW - dt.timedelta(days=1)).date().isoformat()
UNTIL = (NOW + dt.timedelta(days=2)).date().isoformat()
INSIGHT_PARAMS = {
    "level": "ad",
    "breakdowns": ["age", "gender"],
    "time_range": {"since": SINCE, "until": UNTIL},
    "time_increment": 1,
}
EMAILS = [f"person{i}@example.org" for i in range(7)]


def campaign_params(name, **extra):
    p = {
        "name": name,
        "objective": "OUTCOME_TRAFFIC",
        "status": "PAUSED",
        "special_ad_categories": ["EMPLOYMENT"],
        "special_ad_category_country": ["US"],
        "is_adset_budget_sharing_enabled": False,
    }
    p.update(extra)
    return p


def adset_params(name, campaign_id, targeting=None, **extra):
    p = {
        "name": name,
        "campaign_id": campaign_id,
        "daily_budget": 1000,
        "billing_event": "IMPRESSIONS",
        "optimization_goal": "LINK_CLICKS",
        "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
        "targeting": targeting or TARGETING,
        "start_time": NOW,  # a datetime: the SDK sends str(datetime)
        "status": "PAUSED",
    }
    p.update(DSA)
    p.update(extra)
    return p


# ---- account and lookups ------------------------------------------------------------------

@check("account.read")
def _():
    acc = AdAccount(ACCOUNT).api_get(fields=["account_id", "currency", "timezone_name"])
    eq("id", acc["id"], ACCOUNT)
    eq("account_id", acc["account_id"], ACCOUNT[len("act_"):])
    assert acc.get("timezone_name"), f"no timezone_name in {acc.export_all_data()}"


@check("search.adgeolocation_regions")
def _():
    found = TargetingSearch.search(params={"type": "adgeolocation", "location_types": ["region"], "q": ""})
    assert found, "no region found"
    for r in found:
        assert r.get("key") and r.get("name"), f"region without key/name: {r.export_all_data()}"
        eq("type", r.get("type"), "region")
    S["region_key"] = str(found[0]["key"])


# ---- creation, in Meta's order: campaign -> ad set -> creative -> ad -----------------------

@check("campaign.create")
def _():
    c = ACC.create_campaign(params=campaign_params(f"{TAG}/audit"))
    assert re.fullmatch(r"\d+", c.get_id() or ""), f"id {c.get_id()!r} is not a numeric Graph id"
    S["campaign"] = c.get_id()


@check("campaign.read_back")
def _():
    c = Campaign(need("campaign")).api_get(fields=[
        "name", "objective", "status", "effective_status", "special_ad_categories",
        "special_ad_category_country", "is_adset_budget_sharing_enabled"])
    eq("id", c["id"], S["campaign"])
    eq("name", c["name"], f"{TAG}/audit")
    eq("objective", c["objective"], "OUTCOME_TRAFFIC")
    eq("status", c["status"], "PAUSED")
    eq("effective_status", c["effective_status"], "PAUSED")
    eq("special_ad_categories", c["special_ad_categories"], ["EMPLOYMENT"])
    eq("special_ad_category_country", c["special_ad_category_country"], ["US"])
    eq("is_adset_budget_sharing_enabled", c["is_adset_budget_sharing_enabled"], False)


@check("campaign.create_scratch")
def _():
    p = campaign_params(f"{TAG}/scratch", special_ad_categories=[])
    del p["special_ad_category_country"]
    c = ACC.create_campaign(params=p)
    S["scratch"] = c.get_id()


@check("adset.create")
def _():
    a = ACC.create_ad_set(params=adset_params(f"{TAG}/audit/adset", need("campaign")))
    assert re.fullmatch(r"\d+", a.get_id() or ""), f"id {a.get_id()!r}"
    S["adset"] = a.get_id()


@check("adset.read_back")
def _():
    a = AdSet(need("adset")).api_get(fields=[
        "name", "campaign_id", "daily_budget", "billing_event", "optimization_goal", "targeting",
        "status", "start_time", "dsa_beneficiary", "dsa_payor"])
    eq("name", a["name"], f"{TAG}/audit/adset")
    eq("campaign_id", a["campaign_id"], S["campaign"])
    eq("daily_budget", a["daily_budget"], "1000")  # Meta returns money as numeric strings
    eq("billing_event", a["billing_event"], "IMPRESSIONS")
    eq("optimization_goal", a["optimization_goal"], "LINK_CLICKS")
    eq("status", a["status"], "PAUSED")
    t = a["targeting"]
    eq("targeting.geo_locations.countries", t["geo_locations"]["countries"], ["US"])
    eq("targeting.targeting_automation.advantage_audience",
       t["targeting_automation"]["advantage_audience"], 0)
    eq("start_time", parse_time(a["start_time"]), NOW)
    eq("dsa_beneficiary", a["dsa_beneficiary"], "Audit Lab")
    eq("dsa_payor", a["dsa_payor"], "Audit Lab")


@check("adset.create_by_region_key")
def _():
    key = need("region_key")
    targeting = dict(TARGETING, geo_locations={"regions": [{"key": key}]})
    a = ACC.create_ad_set(params=adset_params(f"{TAG}/audit/adset-region", need("campaign"), targeting))
    back = AdSet(a.get_id()).api_get(fields=["targeting"])
    eq("targeting.geo_locations.regions[0].key", str(back["targeting"]["geo_locations"]["regions"][0]["key"]), key)


@check("image.upload_file")
def _():
    path = os.path.join(tempfile.mkdtemp(), "audit.png")
    with open(path, "wb") as f:
        f.write(png_bytes())
    img = AdImage(parent_id=ACCOUNT)
    img[AdImage.Field.filename] = path
    img.remote_create()  # multipart/form-data upload of the file
    h = img.get_hash()
    assert re.fullmatch(r"[0-9a-f]{32}", h or ""), f"hash {h!r} is not 32 hex digits"
    assert (img.get("url") or "").startswith("http"), f"no url for the image: {img.export_all_data()}"
    S["image_hash"] = h


def creative_params(key):
    return {
        "name": f"{TAG}/audit/{key}",  # the simulator reads the ad key after the last '/'
        "object_story_spec": {
            "page_id": PAGE_ID,
            "link_data": {
                "link": "https://jobs.example.org/driver",
                "message": "We are hiring drivers.",
                "name": "Delivery driver",
                "image_hash": need("image_hash"),
                "call_to_action": {"type": "APPLY_NOW", "value": {"link": "https://jobs.example.org/driver"}},
            },
        },
        "degrees_of_freedom_spec": {"creative_features_spec": {
            "image_touchups": {"enroll_status": "OPT_OUT"},
            "text_optimizations": {"enroll_status": "OPT_OUT"},
        }},
    }


for key in ("ad_a", "ad_b"):
    @check(f"creative.create_{key}")
    def _(key=key):
        c = ACC.create_ad_creative(params=creative_params(key))
        assert re.fullmatch(r"\d+", c.get_id() or ""), f"id {c.get_id()!r}"
        S[f"creative_{key}"] = c.get_id()


@check("creative.read_back")
def _():
    c = AdCreative(need("creative_ad_a")).api_get(fields=["name", "object_story_spec"])
    eq("name", c["name"], f"{TAG}/audit/ad_a")
    link = c["object_story_spec"]["link_data"]
    eq("object_story_spec.link_data.image_hash", link["image_hash"], S["image_hash"])
    eq("object_story_spec.link_data.link", link["link"], "https://jobs.example.org/driver")


for key in ("ad_a", "ad_b"):
    @check(f"ad.create_{key}")
    def _(key=key):
        a = ACC.create_ad(params={
            "name": f"{TAG}/audit/{key}",
            "adset_id": need("adset"),
            "creative": {"creative_id": need(f"creative_{key}")},
            "status": "PAUSED",
        })
        assert re.fullmatch(r"\d+", a.get_id() or ""), f"id {a.get_id()!r}"
        S[key] = a.get_id()


@check("ad.read_back")
def _():
    a = Ad(need("ad_a")).api_get(fields=["name", "adset_id", "campaign_id", "creative", "status"])
    eq("name", a["name"], f"{TAG}/audit/ad_a")
    eq("adset_id", a["adset_id"], S["adset"])
    eq("campaign_id", a["campaign_id"], S["campaign"])
    eq("creative.id", a["creative"]["id"], S["creative_ad_a"])
    eq("status", a["status"], "PAUSED")


# ---- statuses and updates -----------------------------------------------------------------

@check("status.effective_campaign_paused")
def _():
    for node in (AdSet(need("adset")), Ad(need("ad_a")), Ad(need("ad_b"))):
        node.api_update(params={"status": "ACTIVE"})
    ad = Ad(S["ad_a"]).api_get(fields=["status", "effective_status"])
    eq("ad status", ad["status"], "ACTIVE")
    eq("ad effective_status (campaign paused)", ad["effective_status"], "CAMPAIGN_PAUSED")
    adset = AdSet(S["adset"]).api_get(fields=["effective_status"])
    eq("ad set effective_status (campaign paused)", adset["effective_status"], "CAMPAIGN_PAUSED")


@check("update.adset_name_and_budget")
def _():
    a = AdSet(need("adset"))
    a.api_update(params={"name": f"{TAG}/audit/adset-v2", "daily_budget": 1500})
    back = AdSet(S["adset"]).api_get(fields=["name", "daily_budget"])
    eq("name", back["name"], f"{TAG}/audit/adset-v2")
    eq("daily_budget", back["daily_budget"], "1500")


@check("update.campaign_name_and_status")
def _():
    c = Campaign(need("campaign"))
    c.api_update(params={"name": f"{TAG}/audit-v2", "status": "ACTIVE"})
    back = Campaign(S["campaign"]).api_get(fields=["name", "status", "effective_status"])
    eq("name", back["name"], f"{TAG}/audit-v2")
    eq("status", back["status"], "ACTIVE")
    eq("effective_status", back["effective_status"], "ACTIVE")


# ---- edges ----------------------------------------------------------------------------------

@check("list.campaigns_filtered_with_summary")
def _():
    need("campaign", "scratch")
    cur = ACC.get_campaigns(fields=["name", "status"], params={
        "filtering": [{"field": "name", "operator": "CONTAIN", "value": TAG}],
        "summary": True,
    })
    listed = list(cur)
    eq("campaign ids", sorted(c["id"] for c in listed), sorted([S["campaign"], S["scratch"]]))
    eq("summary.total_count", cur.total(), len(listed))


@check("list.campaign_ads")
def _():
    ads = list(Campaign(need("campaign")).get_ads(fields=["name", "adset_id", "effective_status"]))
    eq("ad ids", sorted(a["id"] for a in ads), sorted([need("ad_a"), need("ad_b")]))
    for a in ads:
        eq(f"ad {a['id']} adset_id", a["adset_id"], S["adset"])


@check("clock.advance")
def _():
    to = NOW + dt.timedelta(days=4)
    got = admin("POST", "/__admin/clock?to=" + urllib.request.quote(to.isoformat()))
    eq("clock", dt.datetime.fromisoformat(got["now"].replace("Z", "+00:00")), to)


@check("status.effective_active")
def _():
    ad = Ad(need("ad_a")).api_get(fields=["effective_status"])
    eq("ad effective_status", ad["effective_status"], "ACTIVE")


# ---- insights -------------------------------------------------------------------------------

def rows_of(cursor):
    return [r.export_all_data() for r in cursor]


def canon(rows):
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


@check("insights.sync_breakdowns")
def _():
    rows = rows_of(Campaign(need("campaign")).get_insights(fields=INSIGHT_FIELDS, params=dict(INSIGHT_PARAMS)))
    assert rows, "no rows although the campaign delivered"
    allowed = set(INSIGHT_FIELDS) | {"age", "gender", "date_start", "date_stop"}
    for r in rows:
        assert set(r) <= allowed, f"unexpected keys {sorted(set(r) - allowed)} in {r}"
        for k in ("ad_id", "impressions", "age", "gender", "date_start", "date_stop"):
            assert k in r, f"row without {k}: {r}"
        eq("daily row date_stop", r["date_stop"], r["date_start"])
        assert SINCE <= r["date_start"] <= UNTIL, f"date_start {r['date_start']} outside {SINCE}..{UNTIL}"
        assert r["ad_id"] in (S["ad_a"], S["ad_b"]), f"ad_id {r['ad_id']} is not one of ours"
        assert r["gender"] in ("female", "male", "unknown"), f"gender {r['gender']!r}"
        assert r["age"] in ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "Unknown"), \
            f"age {r['age']!r}"
        assert isinstance(r["impressions"], str) and r["impressions"].isdigit(), \
            f"impressions {r['impressions']!r} is not a numeric string"
    assert sum(int(r["impressions"]) for r in rows) > 0, "no impressions in any row"
    S["sync_rows"] = rows


@check("insights.every_level_and_breakdown")
def _():
    # The same delivery read at every level and by each breakdown Meta allows: levels and
    # breakdowns only slice it differently. Breakdown values are estimates that need not add
    # up exactly to the total (Meta's Breakdowns reference), so sums agree to 2%.
    span = {"time_range": {"since": SINCE, "until": UNTIL}}
    nodes = {
        "account": AdAccount(ACCOUNT),
        "campaign": Campaign(need("campaign")),
        "adset": AdSet(need("adset")),
        "ad": Ad(need("ad_a")),
    }
    ids = {"account": "account_id", "campaign": "campaign_id", "adset": "adset_id", "ad": "ad_id"}
    total = {}
    for level in ("account", "campaign", "adset", "ad"):
        for breakdowns in ([], ["age"], ["gender"], ["age", "gender"], ["region"]):
            params = dict(span, level=level, breakdowns=breakdowns)
            fields = [ids[level], "impressions", "spend"]
            rows = rows_of(nodes[level].get_insights(fields=fields, params=params))
            for r in rows:
                assert set(r) == set(fields) | set(breakdowns) | {"date_start", "date_stop"}, \
                    f"level {level} by {breakdowns}: keys {sorted(r)}"
            eq(f"{level}-level rows' {ids[level]}", {r[ids[level]] for r in rows},
               {nodes[level].get_id().replace("act_", "")})
            impressions = sum(int(r["impressions"]) for r in rows)
            if not breakdowns:
                total[level] = impressions
            assert abs(impressions - total[level]) <= 0.02 * total[level], \
                f"{level} by {breakdowns}: {impressions} impressions against {total[level]} in all"
    assert 0 < total["ad"] <= total["adset"] <= total["campaign"] <= total["account"], total


@check("insights.async_report_run")
def _():
    job = Campaign(need("campaign")).get_insights(fields=INSIGHT_FIELDS, params=dict(INSIGHT_PARAMS), is_async=True)
    assert isinstance(job, AdReportRun), f"got {type(job).__name__}"
    assert re.fullmatch(r"\d+", job.get_id() or ""), f"report_run_id {job.get_id()!r}"
    deadline = time.time() + 30
    while True:
        job.api_get(fields=["async_status", "async_percent_completion"])
        if job["async_status"] not in ("Job Not Started", "Job Started", "Job Running"):
            break
        assert time.time() < deadline, f"still {job['async_status']} after 30 s"
        time.sleep(0.05)
    eq("async_status", job["async_status"], "Job Completed")
    eq("async_percent_completion", job["async_percent_completion"], 100)
    rows = rows_of(job.get_insights())
    sync = need("sync_rows")
    assert canon(rows) == canon(sync), f"{len(rows)} async rows differ from the {len(sync)} sync rows"


# ---- batch ----------------------------------------------------------------------------------

@check("batch.in_order")
def _():
    ids = list(need("campaign", "adset", "ad_a", "ad_b"))
    batch = api.new_batch()
    answers = []
    for cls, i in zip((Campaign, AdSet, Ad, Ad), ids):
        cls(i).api_get(fields=["name"], batch=batch,
                       success=lambda r: answers.append(("ok", r.json())),
                       failure=lambda r: answers.append(("fail", r.json())))
    AdSet(ids[1]).api_update(params={"name": f"{TAG}/audit/adset-v3"}, batch=batch,
                             success=lambda r: answers.append(("ok", r.json())),
                             failure=lambda r: answers.append(("fail", r.json())))
    retry = batch.execute()
    assert retry is None, "some batch answers were missing"
    eq("answers", [a[0] for a in answers], ["ok"] * 5)
    eq("ids in order", [a[1].get("id") for a in answers[:4]], ids)
    eq("update answer", answers[4][1], {"success": True})
    eq("name after batch update", AdSet(ids[1]).api_get(fields=["name"])["name"], f"{TAG}/audit/adset-v3")


# ---- custom audience ------------------------------------------------------------------------

@check("audience.create")
def _():
    a = ACC.create_custom_audience(params={
        "name": f"{TAG}/list",
        "subtype": "CUSTOM",
        "description": "audit seed list",
        "customer_file_source": "USER_PROVIDED_ONLY",
    })
    assert re.fullmatch(r"\d+", a.get_id() or ""), f"id {a.get_id()!r}"
    S["audience"] = a.get_id()


@check("audience.add_users_hashed")
def _():
    # Schema.email_hash ("EMAIL_SHA256") makes the SDK normalise and SHA-256 each address.
    r = CustomAudience(need("audience")).add_users(CustomAudience.Schema.email_hash, EMAILS).json()
    eq("num_received", r.get("num_received"), len(EMAILS))
    eq("num_invalid_entries", r.get("num_invalid_entries"), 0)
    eq("audience_id", str(r.get("audience_id")), S["audience"])


@check("audience.remove_users_hashed")
def _():
    r = CustomAudience(need("audience")).remove_users(CustomAudience.Schema.email_hash, EMAILS[:2]).json()
    eq("num_received", r.get("num_received"), 2)
    eq("num_invalid_entries", r.get("num_invalid_entries"), 0)


@check("audience.usersreplace")
def _():
    hashed = [hashlib.sha256(e.encode()).hexdigest() for e in EMAILS[:3]]
    r = CustomAudience(need("audience")).create_users_replace(params={
        "payload": {"schema": "EMAIL_SHA256", "data": hashed},
        "session": {"session_id": 9001, "batch_seq": 1, "last_batch_flag": True,
                    "estimated_num_total": len(hashed)},
    })
    eq("num_received", r.get("num_received"), len(hashed))
    eq("num_invalid_entries", r.get("num_invalid_entries"), 0)


# ---- rules Meta enforces --------------------------------------------------------------------

# Each rule check changes one thing in a request that succeeded above (its positive control,
# required through need()), so a server that refuses everything cannot pass it.

@check("rule.campaign_needs_budget_sharing_flag")
def _():
    need("campaign")
    p = campaign_params(f"{TAG}/no-flag")
    del p["is_adset_budget_sharing_enabled"]
    expect_error(lambda: ACC.create_campaign(params=p), 100)


@check("rule.adset_needs_advantage_audience")
def _():
    need("adset")
    t = {k: v for k, v in TARGETING.items() if k != "targeting_automation"}
    expect_error(lambda: ACC.create_ad_set(params=adset_params(f"{TAG}/no-aa", need("campaign"), t)),
                 100, 1870227)


@check("rule.eu_adset_needs_dsa")
def _():
    t = dict(TARGETING, geo_locations={"countries": ["FR"]})
    p = adset_params(f"{TAG}/fr", need("scratch"), t)
    del p["dsa_beneficiary"], p["dsa_payor"]
    expect_error(lambda: ACC.create_ad_set(params=p), 100)
    # The positive control: the same ad set with both DSA fields is accepted.
    ok = ACC.create_ad_set(params=adset_params(f"{TAG}/fr-dsa", S["scratch"], t))
    assert re.fullmatch(r"\d+", ok.get_id() or ""), f"FR ad set with dsa fields: id {ok.get_id()!r}"


@check("rule.unknown_param")
def _():
    need("campaign")
    expect_error(lambda: ACC.create_campaign(params=campaign_params(f"{TAG}/x", not_a_param="1")), 100)


@check("rule.bad_enum_value")
def _():
    need("campaign")
    expect_error(lambda: ACC.create_campaign(params=campaign_params(f"{TAG}/x", objective="OUTCOME_NOPE")), 100)


@check("rule.invalid_breakdown_combination")
def _():
    need("sync_rows")
    params = dict(INSIGHT_PARAMS, breakdowns=["age", "region"])
    expect_error(lambda: list(Campaign(need("campaign")).get_insights(fields=["impressions"], params=params)), 100)


# ---- archive and delete ---------------------------------------------------------------------

@check("archive.ad")
def _():
    Ad(need("ad_b")).api_update(params={"status": "ARCHIVED"})
    back = Ad(S["ad_b"]).api_get(fields=["status", "effective_status"])
    eq("status", back["status"], "ARCHIVED")
    eq("effective_status", back["effective_status"], "ARCHIVED")


@check("delete.campaign")
def _():
    Campaign(need("scratch")).api_delete()  # raises unless Meta answers {"success": true}
    # A deleted object is still readable by its id, with status DELETED ...
    back = Campaign(S["scratch"]).api_get(fields=["status", "effective_status"])
    eq("status", back["status"], "DELETED")
    eq("effective_status", back["effective_status"], "DELETED")
    # ... but no longer listed on its account's edge.
    listed = [c["id"] for c in ACC.get_campaigns(fields=["name"], params={
        "filtering": [{"field": "name", "operator": "CONTAIN", "value": TAG}]})]
    assert S["scratch"] not in listed, "a deleted campaign is still listed"


print(f"{len(PASSED)} passed, {len(FAILED)} failed", flush=True)
sys.exit(1 if FAILED else 0)
