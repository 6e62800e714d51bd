-- pbr_members: one row per member of an attached family as identified, with their role
-- then, their age on the claims as-of date and their name as now known (for evidence).
with final as (
    select
        a.family_id,
        m.person_id,
        m.role as identified_role,
        age_on(p.date_of_birth, $as_of::date) as age,
        p.date_of_birth,
        upper(left(m.role, 1)) || substr(m.role, 2) || ' '
            || coalesce(upper(left(p.forename, 1)) || '. ', '')
            || coalesce(p.surname, '(no name)') as member_label
    from pbr_attachments as a
    join main.family_members_history as m
        on m.run_id = a.identification_run_id and m.family_id = a.family_id
    left join person_identities as p using (person_id)
)

select * from final
