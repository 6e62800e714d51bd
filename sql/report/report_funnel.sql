-- report_funnel: the criteria funnel, one row per stage, each within the one before:
-- the households screened, those meeting at least 1, 2, … criteria up to one fewer than
-- the fewest any cohort family meets, and the families that qualify (the cohort).
with fewest as (
    select coalesce(min(criteria_met), 1) as criteria_met from cohort
),

levels as (
    select unnest(range(1, (select criteria_met from fewest))) as at_least
),

final as (
    select 0 as stage, 'Households screened' as label, count(*) as households
    from families
    union all
    select
        l.at_least,
        'Meet at least ' || l.at_least || ' criteri' || if(l.at_least = 1, 'on', 'a'),
        count(fc.family_id)
    from levels as l
    left join family_criteria as fc on fc.criteria_met >= l.at_least
    group by l.at_least
    union all
    select 99, 'Qualify: the cohort', count(*)
    from cohort
)

select * from final
order by stage
