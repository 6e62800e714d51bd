-- review_queue.csv: one row per pair of identities waiting for a person, those that
-- could change the cohort first. The decision column is the reviewer's to fill in; the
-- rows saved as match_decisions.csv in the extracts folder are applied next run.
select
    p.priority,
    p.bears_on,
    q.* exclude (record_id_l, record_id_r),
    null as decision
from review_queue as q
join review_priorities as p using (record_id_l, record_id_r)
order by p.priority, q.match_probability desc, q.profile_key_l, q.profile_key_r
