-- person_overlaps: one row per (person of this run, a cluster of records; person of the
-- previous run $previous_run_id) that share evidence: how many of the previous person's
-- records the cluster holds unchanged (matched by fingerprint: record_hashes.sql), or for a
-- previous person none of whose records is left, how many identifiers they share (a source
-- identifier or the exact name and date of birth: the evidence that links records) and
-- their share of the identifiers of either (key_overlap).
-- A run before fingerprints were kept has none, and its people are followed by identifiers.
with previous_records as (
    select person_id, record_hash, record_n
    from main.person_record_hashes_history
    where run_id = $previous_run_id
),

shared_records as (
    select h.cluster_id, p.person_id, count(*) as n_shared_records
    from record_hashes as h
    join previous_records as p using (record_hash, record_n)
    group by h.cluster_id, p.person_id
),

previous_keys as (
    -- only of people none of whose records is left: the others are followed by records
    select person_id, key_type, key_value,
        count(*) over (partition by person_id) as n_previous_keys
    from main.person_keys_history
    where run_id = $previous_run_id
        and person_id not in (select person_id from shared_records)
),

shared_keys as (
    select ck.cluster_id, p.person_id, count(*) as n_shared_keys,
        any_value(p.n_previous_keys) as n_previous_keys
    from cluster_keys as ck
    join previous_keys as p using (key_type, key_value)
    group by ck.cluster_id, p.person_id
),

cluster_sizes as (
    select cluster_id, count(*) as n_keys from cluster_keys group by cluster_id
),

final as (
    select cluster_id, person_id, n_shared_records, 0 as n_shared_keys,
        0.0 as key_overlap
    from shared_records
    union all
    -- shared / identifiers of either (Jaccard): a person known only by name and date of
    -- birth passes to the cluster known by just that, not to one with an identifier too
    select s.cluster_id, s.person_id, 0, s.n_shared_keys,
        s.n_shared_keys / (z.n_keys + s.n_previous_keys - s.n_shared_keys)
    from shared_keys as s
    join cluster_sizes as z using (cluster_id)
)

select * from final
