-- cohort: one row per qualifying family of this run, with the family's address, the flags
-- of every criterion (columns of family_criteria), how it qualifies, whether it is new
-- or continuing against the cohort of the run before its as-of date, and its evidence
-- ("Child J. Smith: 18.2% unauthorised absence over autumn 2024 – summer 2025 | Child
-- J. Smith: 3 suspensions (16 Sep, 21 Oct, 4 Nov 2024)"): a line per member and criterion.
with previous as (
    select family_id from main.cohort_history where run_id = $compare_run_id
),

family_evidence as (
    -- one line per member and criterion met, the member named as the team would say it
    select family_id, string_agg(line, ' | ' order by line) as evidence
    from (
        select
            e.family_id,
            upper(left(m.role, 1)) || substr(m.role, 2) || ' '
                || coalesce(upper(left(pe.forename, 1)) || '. ', '')
                || coalesce(display_name(pe.surname), '(no name)') || ': ' || e.line as line
        from evidence_lines as e
        join family_members as m using (family_id, person_id)
        join persons as pe using (person_id)
    )
    group by family_id
),

final as (
    select
        f.family_id,
        f.uprn,
        f.address,
        f.postcode,
        f.ward,
        f.lsoa,
        f.imd_decile,
        f.members,
        f.children,
        f.adults,
        fc.* exclude (family_id),
        case when p.family_id is null then 'new' else 'continuing' end as status,
        ev.evidence
    from family_criteria as fc
    join families as f using (family_id)
    left join previous as p using (family_id)
    left join family_evidence as ev using (family_id)
    where fc.qualifies_by is not null
    order by f.family_id
)

select * from final
