-- family_members: one row per person living in a household on the as-of date.
-- Children are under 18 on the as-of date, adults 18 or over (rules.md). A person whose
-- date of birth no source gives is a child if the school census knows them, else an adult.
with pupils as (
    select distinct person_id from person_records where extract = 'school_attendance'
),

final as (
    select
        f.family_id,
        p.person_id,
        case
            when p.age < 18 then 'child'
            when p.age >= 18 then 'adult'
            when pu.person_id is not null then 'child'
            else 'adult'
        end as role,
        p.age
    from persons as p
    join family_ids as f using (household_key)
    left join pupils as pu using (person_id)
)

select * from final
