-- pbr_members: one row per member of an attached family as identified, under their id of
-- this run (pbr_member_ids: theirs, or the oldest id of a merge theirs went into; as
-- identified when it was retired), with their role then, their age on the claims as-of
-- date and their name as now known (for evidence). Two members now one person are one row.
with members as (
    select
        a.family_id,
        coalesce(i.person_id, m.person_id) as person_id,
        m.role
    from pbr_attachments as a
    join main.family_members_history as m
        on m.run_id = a.identification_run_id and m.family_id = a.family_id
    left join pbr_member_ids as i
        on i.identification_run_id = a.identification_run_id
            and i.identified_person_id = m.person_id
    qualify row_number() over (partition by a.family_id, coalesce(i.person_id, m.person_id)
        order by m.role, m.person_id) = 1
),

final as (
    select
        m.family_id,
        m.person_id,
        m.role as identified_role,
        age_on(p.date_of_birth, $as_of::date) as age,
        p.date_of_birth,
        upper(left(m.role, 1)) || substr(m.role, 2) || ' '
            || coalesce(upper(left(p.forename, 1)) || '. ', '')
            || coalesce(p.surname, '(no name)') as member_label
    from members as m
    left join person_identities as p using (person_id)
)

select * from final
