-- pbr_progress: one row per Work Programme or ESF start in the last N months by an adult
-- of an attached family, with its source record.
with final as (
    select m.family_id, m.person_id, m.member_label, e.kind, e.start_date, e.source_row
    from pbr_members as m
    join person_keys as k on k.person_id = m.person_id and k.key_type = 'nino'
    join stg_employment as e on e.nino = k.key_value
    where coalesce(m.age >= 18, m.identified_role = 'adult')
        and e.kind in (select unnest($ptw_kinds))
        and in_months(e.start_date, $as_of::date, $ptw_months)
)

select * from final order by family_id, start_date, source_row
