-- cohort_members: one row per member of a qualifying family, with identity (names cased
-- as the team reads them: display_name), identifiers, whether they are new to the family
-- since the last run (members_new_to_family.sql), and the evidence about that member, a
-- line per criterion met in the rule set's order (the per-member flags are added by the
-- step from the rule set's criteria).
with member_evidence as (
    select
        family_id,
        person_id,
        string_agg(line, ' | ' order by criterion_position) as evidence
    from evidence_lines
    group by family_id, person_id
),

final as (
    select
        m.family_id,
        m.person_id,
        display_name(pe.forename) as forename,
        display_name(pe.surname) as surname,
        pe.date_of_birth,
        m.role,
        m.age,
        pe.upn,
        pe.nino,
        pe.police_ref,
        pe.asb_ref,
        nf.person_id is not null as is_new_to_family,
        ev.evidence
    from family_members as m
    join cohort as c using (family_id)
    join persons as pe using (person_id)
    left join member_evidence as ev using (family_id, person_id)
    left join members_new_to_family as nf using (family_id, person_id)
    order by m.family_id, m.role, pe.date_of_birth, m.person_id
)

select * from final
