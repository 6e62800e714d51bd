-- person_keys: one row per (person, source identifier), and per standardised name and
-- date of birth (key_type name_dob); carried to the next run so that people keep their ids,
-- even those no source gives an identifier. Never used to link records to each other.
with final as (
    select distinct pr.person_id, k.key_type, k.key_value
    from person_records as pr
    join std_person_keys as k using (record_id)
    union
    select distinct pr.person_id, 'name_dob',
        concat_ws('|', r.surname_std, r.forename_std, r.date_of_birth)
    from person_records as pr
    join std_person_records as r using (record_id)
    where r.surname_std is not null and r.forename_std is not null
        and r.date_of_birth is not null
)

select * from final
