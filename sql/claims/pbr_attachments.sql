-- pbr_attachments: one row per attached family, with the screening run that identified
-- it (the newest succeeded screening run as at or before the attachment date in whose
-- cohort the family is; for an attachment back-dated before any run, the first run that
-- identified it).
with attachments as (
    select family_id, min(attached_date) as attached_date, max(closed_date) as closed_date,
        min(source_row) as source_row
    from stg_attachments
    group by family_id
),

identified as (
    select c.family_id, r.run_id, r.as_of_date
    from main.cohort_history as c
    join main.runs as r using (run_id)
    where r.command = 'screen' and r.status = 'succeeded'
),

chosen as (
    select
        a.family_id,
        coalesce(
            -- run ids begin with their start time: ties on the as-of date go to the later run
            max_by(i.run_id, i.as_of_date || ' ' || i.run_id)
                filter (where i.as_of_date <= a.attached_date),
            min_by(i.run_id, i.as_of_date || ' ' || i.run_id)
        ) as identification_run_id
    from attachments as a
    join identified as i using (family_id)
    group by a.family_id
),

final as (
    select
        a.family_id,
        a.source_row,
        a.attached_date,
        a.closed_date,
        c.identification_run_id,
        r.as_of_date as identified_as_of_date
    from attachments as a
    left join chosen as c using (family_id)
    left join main.runs as r on r.run_id = c.identification_run_id
)

select * from final
