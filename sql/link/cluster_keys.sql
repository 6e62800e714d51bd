-- cluster_keys: one row per (linked person, a cluster of records; source identifier of
-- theirs), and per standardised name and date of birth (key_type name_dob): what follows
-- a person to the next run when none of their records is left (person_overlaps.sql) and,
-- under their id, person_keys. Never used to link records to each other.
with final as (
    select distinct c.cluster_id, k.key_type, k.key_value
    from link_clusters as c
    join std_person_keys as k using (record_id)
    union
    select distinct c.cluster_id, 'name_dob', r.name_key
    from link_clusters as c
    join std_person_records as r using (record_id)
    where r.name_key is not null
)

select * from final
