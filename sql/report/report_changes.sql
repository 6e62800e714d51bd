-- report_changes: one row comparing this run's cohort with the previous screening run
-- ($previous_run_id, the newest succeeded one as at or before this run's as-of date;
-- null for a database's first run): the cohort, its families new to it, continuing and
-- no longer qualifying, and the previous run's date, cohort and households screened.
with previous as (
    select
        cast(as_of_date as varchar) as as_of,
        n_cohort_families,
        n_families
    from main.runs
    where run_id = $previous_run_id
),

final as (
    select
        count(*) as n_cohort,
        count(*) filter (where c.status = 'new') as n_new,
        count(*) filter (where c.status = 'continuing') as n_continuing,
        (
            select count(*) from main.cohort_history as h
            where h.run_id = $previous_run_id
                and h.family_id not in (select family_id from cohort)
        ) as n_left,
        (select as_of from previous) as previous_as_of,
        (select n_cohort_families from previous) as previous_cohort,
        (select n_families from previous) as previous_households
    from cohort as c
)

select * from final
