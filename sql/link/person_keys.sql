-- person_keys: one row per (person, source identifier); carried to the next run so that
-- people keep their ids.
with final as (
    select distinct pr.person_id, k.key_type, k.key_value
    from person_records as pr
    join std_person_keys as k using (record_id)
)

select * from final
