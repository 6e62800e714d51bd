-- report_wards: one row per ward of the households screened (every family formed), with
-- how many of them are in the cohort and the cohort's rate per 100 households screened:
-- a ward of many households shows more families without a higher rate. Households whose
-- address reached no gazetteer ward are a row of their own, last.
with screened as (
    select f.ward, c.family_id is not null as in_cohort
    from families as f
    left join cohort as c using (family_id)
),

final as (
    select
        coalesce(ward, '(no ward: gazetteer not matched)') as ward,
        ward is null as is_unmatched,
        count(*) as households,
        count(*) filter (where in_cohort) as families,
        100.0 * count(*) filter (where in_cohort) / count(*) as rate
    from screened
    group by ward
)

select * from final
order by is_unmatched, rate desc, ward
