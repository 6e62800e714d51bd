-- pbr_events: one row per ASB incident or proven youth offence of a member of an attached
-- family that falls in the baseline (the N months up to attachment) or the outcome window
-- (the last N months; N per component), with its source record.
with asb as (
    select m.family_id, m.person_id, m.member_label, 'asb' as component,
        cast($asb_months as integer) as months, 'asb' as extract,
        s.source_row, s.asb_date as event_date, s.record_type || ': ' || s.asb_type as what
    from pbr_members as m
    join person_records as pr on pr.person_id = m.person_id and pr.extract = 'asb'
    join stg_asb as s on s.source_row = pr.source_row
    where s.record_type in (select unnest($asb_types))
),

offences as (
    select m.family_id, m.person_id, m.member_label, 'youth_offending' as component,
        cast($offence_months as integer) as months, 'police_offences' as extract, s.source_row, s.disposal_date as event_date,
        s.disposal || ' (offence ' || strftime(s.offence_date, '%-d %b %Y') || ')' as what
    from pbr_members as m
    join person_records as pr
        on pr.person_id = m.person_id and pr.extract = 'police_offences'
    join stg_police_offences as s on s.source_row = pr.source_row
    where s.disposal in (select unnest($offence_codes))
        and age_on(m.date_of_birth, s.offence_date) <= $offence_max_age
),

events as (
    select * from asb
    union all
    select * from offences
),

final as (
    select
        e.*,
        case
            when in_months(e.event_date, a.attached_date, e.months) then 'baseline'
            when in_months(e.event_date, $as_of::date, e.months) then 'outcome'
        end as period
    from events as e
    join pbr_attachments as a using (family_id)
    where in_months(e.event_date, a.attached_date, e.months)
        or in_months(e.event_date, $as_of::date, e.months)
)

select * from final order by family_id, component, event_date, extract, source_row
