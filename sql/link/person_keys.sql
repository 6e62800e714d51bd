-- person_keys: one row per (person, source identifier), and per standardised name and
-- date of birth (key_type name_dob); carried to the next run so that people keep their ids,
-- even those no source gives an identifier. Never used to link records to each other.
with final as (
    select distinct pr.person_id, k.key_type, k.key_value
    from person_records as pr
    join std_person_keys as k using (record_id)
    union
    select distinct pr.person_id, 'name_dob', r.name_key
    from person_records as pr
    join std_person_records as r using (record_id)
    where r.name_key is not null
)

select * from final
