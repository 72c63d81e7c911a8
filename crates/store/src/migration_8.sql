-- adskew store, migration 8: an ad's delivery in adskew's own words (issue #14).
-- `effective_status` keeps the platform's status as it said it; `delivery` is what adskew
-- decides on (delivering, paused, in_review, rejected, limited, blocked, other), so nothing
-- outside the platform's adapter matches a platform's words. Rows written before this
-- migration held only Meta's statuses (the simulator used Meta's words too); they are
-- mapped as the Meta adapter maps them.
ALTER TABLE ad_reviews ADD COLUMN delivery TEXT NOT NULL DEFAULT 'other';
UPDATE ad_reviews SET delivery = CASE effective_status
    WHEN 'ACTIVE' THEN 'delivering'
    WHEN 'PAUSED' THEN 'paused'
    WHEN 'ADSET_PAUSED' THEN 'paused'
    WHEN 'CAMPAIGN_PAUSED' THEN 'paused'
    WHEN 'ARCHIVED' THEN 'paused'
    WHEN 'DELETED' THEN 'paused'
    WHEN 'PENDING_REVIEW' THEN 'in_review'
    WHEN 'IN_PROCESS' THEN 'in_review'
    WHEN 'PREAPPROVED' THEN 'in_review'
    WHEN 'DISAPPROVED' THEN 'rejected'
    WHEN 'WITH_ISSUES' THEN 'limited'
    WHEN 'PENDING_BILLING_INFO' THEN 'blocked'
    ELSE 'other'
END;
