-- person_keys: one row per (person, source identifier), and per standardised name and
-- date of birth (key_type name_dob): cluster_keys under the person's id. Carried to the
-- next run so that people keep their ids, even those no source gives an identifier.
with final as (
    select i.person_id, k.key_type, k.key_value
    from cluster_keys as k
    join person_ids as i using (cluster_id)
)

select * from final
