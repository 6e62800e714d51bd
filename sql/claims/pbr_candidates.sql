-- pbr_candidates: one row per (attached family, result) with its status:
--   already_claimed (the claims history has it, under any id of the family: pbr_claimed),
--   claimable (met now), not_yet (applies, not met: `missing` says what is short),
--   not_applicable (the result cannot apply to this family).
-- Windows: crime/ASB/education and progress to work over the last N months; continuous
-- employment from attachment to the as-of date.
with claimed as (
    select family_id, result, claimed_date, source_row from pbr_claimed
),

cae as (
    select a.family_id, 'crime_asb_education' as result,
        count(c.component) as n_components,
        coalesce(bool_and(c.is_met), false) as is_met,
        string_agg(c.shown, ' | ' order by c.component) as evidence,
        string_agg(c.missing, ' | ' order by c.component) filter (where not c.is_met)
            as missing,
        cast($as_of::date - to_months(greatest($asb_months, $offence_months)) as date) + 1
            as window_start,
        $as_of::date as window_end
    from pbr_attachments as a
    left join pbr_components as c using (family_id)
    group by a.family_id
),

ce as (
    select a.family_id, 'continuous_employment' as result,
        count(e.person_id) as n_components,
        coalesce(bool_or(e.is_met), false) as is_met,
        string_agg(e.member_label || ': on ' || e.benefits_then || ' at attachment (row '
            || e.benefit_rows || '), ' || coalesce('on ' || e.benefits_now || ' now',
                'off out-of-work benefits now') || ', '
            || case when e.n_days_employed > 0 then
                printf('%.1f', e.n_days_employed / 7.0) || ' weeks unbroken employment '
                || strftime(e.employment_start_date, '%-d %b %Y') || ' – '
                || strftime(e.employment_end_date, '%-d %b %Y') || ' (employment rows '
                || e.employment_rows || ')' else 'no employment since attachment' end
            || ', ' || e.weeks_needed || ' weeks needed', ' | '
            order by e.member_label, e.person_id) as evidence,
        string_agg(e.member_label || ': '
            || case when e.benefits_now is not null then 'still on ' || e.benefits_now
                else printf('%.1f', e.n_days_employed / 7.0) || ' of ' || e.weeks_needed
                    || ' weeks unbroken employment' end, ' | '
            order by e.member_label, e.person_id) filter (where not e.is_met) as missing,
        a.attached_date as window_start,
        $as_of::date as window_end
    from pbr_attachments as a
    left join pbr_employment as e using (family_id)
    group by a.family_id, a.attached_date
),

ptw as (
    select a.family_id, 'progress_to_work' as result,
        1 as n_components,
        count(p.source_row) > 0 as is_met,
        coalesce(string_agg(p.member_label || ': ' || replace(p.kind, '_', ' ')
            || ' from ' || strftime(p.start_date, '%-d %b %Y') || ' (employment row '
            || p.source_row || ')', ' | ' order by p.start_date, p.source_row),
            'no Work Programme or ESF start in the last ' || $ptw_months || ' months')
            as evidence,
        case when count(p.source_row) = 0 then 'no Work Programme or ESF start in the last '
            || $ptw_months || ' months' end as missing,
        cast($as_of::date - to_months($ptw_months) as date) + 1 as window_start,
        $as_of::date as window_end
    from pbr_attachments as a
    left join pbr_progress as p using (family_id)
    group by a.family_id
),

results as (
    select * from cae
    union all select * from ce
    union all select * from ptw
),

judged as (
    select
        r.*,
        a.attached_date,
        a.identification_run_id,
        k.claimed_date,
        case
            when k.family_id is not null then 'already_claimed'
            when a.identification_run_id is null then 'not_applicable'
            when r.n_components = 0 then 'not_applicable'
            when r.is_met then 'claimable'
            else 'not_yet'
        end as status
    from results as r
    join pbr_attachments as a using (family_id)
    left join claimed as k using (family_id, result)
),

amounts as (
    select unnest($result_names) as result, unnest($result_amounts) as amount
),

final as (
    select
        j.family_id,
        j.result,
        case
            -- progress to work is claimable only where continuous employment is not
            when j.result = 'progress_to_work' and j.status in ('claimable', 'not_yet')
                and ce.status in ('claimable', 'already_claimed') then 'not_applicable'
            else j.status
        end as status,
        j.window_start,
        j.window_end,
        j.attached_date,
        j.identification_run_id,
        case
            when j.status = 'already_claimed'
                then 'claimed on ' || strftime(j.claimed_date, '%-d %b %Y') || '; ' || j.evidence
            when j.identification_run_id is null
                then 'the family is in no screening cohort of this database'
            when j.n_components = 0 and j.result = 'crime_asb_education'
                then 'none of education, ASB or youth offending was a problem at identification'
            when j.n_components = 0 and j.result = 'continuous_employment'
                then 'no adult was on an out-of-work benefit at attachment'
            else j.evidence
        end as evidence,
        case when j.status = 'not_yet' then j.missing end as missing,
        m.amount
    from judged as j
    left join judged as ce on ce.family_id = j.family_id and ce.result = 'continuous_employment'
    join amounts as m on m.result = j.result
)

select
    family_id, result, status, window_start, window_end, attached_date, evidence,
    case when status = 'not_yet' then missing end as missing,
    case when status = 'claimable' then amount else 0 end as value,
    identification_run_id
from final
order by family_id, result
