-- report_deciles: one row per deprivation decile, 1 (most deprived) to 10, always all ten:
-- the households screened in it, those in the cohort and the rate per 100 households
-- screened (0 where a decile has no households or no cohort family, never left out).
-- Households the gazetteer gives no decile are not in any row.
with deciles as (
    select cast(unnest(range(1, 11)) as integer) as imd_decile
),

screened as (
    select f.imd_decile, c.family_id is not null as in_cohort
    from families as f
    left join cohort as c using (family_id)
    where f.imd_decile is not null
),

final as (
    select
        d.imd_decile,
        count(s.imd_decile) as households,
        count(s.imd_decile) filter (where s.in_cohort) as families,
        coalesce(100.0 * count(s.imd_decile) filter (where s.in_cohort)
            / nullif(count(s.imd_decile), 0), 0) as rate
    from deciles as d
    left join screened as s using (imd_decile)
    group by d.imd_decile
)

select * from final
order by imd_decile
