-- person_record_hashes: one row per person-level source record of this run: its person
-- and fingerprint (record_hashes.sql). Kept with the run so that the next run can follow
-- each person by their records; no analyst's table (a fingerprint says nothing alone).
with final as (
    select i.person_id, h.record_hash, h.record_n
    from record_hashes as h
    join person_ids as i using (cluster_id)
)

select * from final
