-- pbr_components: one row per (attached family, component of the crime/ASB/education
-- result that applies to it), with whether it is met, what shows it and what is missing.
-- Education needs a school record for each child in every one of the last N terms; a fall
-- needs something to fall from (no incidents before attachment shows no reduction).
with children as (
    select family_id, person_id, member_label,
        any_value(n_possible) as n_possible, any_value(n_unauthorised) as n_unauthorised,
        any_value(n_suspensions) as n_suspensions,
        arg_min(term_label, term_seq) as first_term, arg_max(term_label, term_seq) as last_term,
        count(distinct term_seq) as n_terms,
        string_agg(source_row::varchar, ', ' order by term_seq) as rows,
        count(distinct term_seq) = $edu_terms
            and any_value(n_suspensions) <= $edu_max_suspensions
            and 100 * any_value(n_unauthorised)
                < cast($edu_pct as decimal(9, 4)) * any_value(n_possible) as is_ok
    from pbr_education
    group by family_id, person_id, member_label
),

education as (
    select p.family_id, 'education' as component,
        coalesce(bool_and(c.is_ok), false) as is_met,
        coalesce(string_agg(c.member_label || ': '
            || printf('%.1f%%', 100.0 * c.n_unauthorised / nullif(c.n_possible, 0))
            || ' unauthorised absence over ' || c.first_term || ' – ' || c.last_term
            || ' (' || c.n_unauthorised || ' of ' || c.n_possible || ' sessions), '
            || c.n_suspensions || ' suspensions', '; ' order by c.member_label, c.person_id),
            'no school records for the children in the last complete terms') as shown,
        case when count(c.person_id) = 0
            then 'no school records for the children in the last complete terms'
            else string_agg(c.member_label || ' at '
                || printf('%.1f%%', 100.0 * c.n_unauthorised / nullif(c.n_possible, 0))
                || ' with ' || c.n_suspensions || ' suspensions'
                || case when c.n_terms < $edu_terms then ', school records for ' || c.n_terms
                    || ' of the last ' || $edu_terms || ' terms' else '' end, '; '
                order by c.member_label, c.person_id) filter (where not c.is_ok)
        end as missing
    from pbr_problems as p
    left join children as c using (family_id)
    where p.component = 'education'
    group by p.family_id
),

reductions as (
    select p.family_id, p.component,
        count(e.source_row) filter (where e.period = 'baseline') as n_baseline,
        count(e.source_row) filter (where e.period = 'outcome') as n_outcome
    from pbr_problems as p
    left join pbr_events as e using (family_id, component)
    where p.component in ('asb', 'youth_offending')
    group by p.family_id, p.component
),

measured as (
    select r.*, a.attached_date,
        case r.component when 'asb' then $asb_months else $offence_months end as months,
        case r.component when 'asb' then $asb_reduction else $offence_reduction end
            as min_reduction,
        case r.component when 'asb' then 'ASB incidents'
            else 'proven offences by under-18s' end as what
    from reductions as r
    join pbr_attachments as a using (family_id)
),

judged as (
    select *,
        $as_of::date - to_months(months) >= attached_date as is_window_complete,
        n_baseline > 0
            and 100 * n_outcome <= (100 - cast(min_reduction as decimal(9, 4))) * n_baseline
            as is_reduced
    from measured
),

reduction_rows as (
    select family_id, component,
        is_window_complete and is_reduced as is_met,
        what || ': ' || n_baseline || ' in the ' || months || ' months to attachment, '
            || n_outcome || ' in the last ' || months || ' months'
            || case
                when n_baseline > 0 and n_outcome <= n_baseline then ' (' || printf('%.0f%%',
                    100.0 * (n_baseline - n_outcome) / n_baseline) || ' fewer)'
                when n_baseline > 0 then ' (' || printf('%.0f%%',
                    100.0 * (n_outcome - n_baseline) / n_baseline) || ' more)'
                else '' end
            as shown,
        case
            when not is_window_complete then 'the last ' || months
                || ' months still overlap the time before attachment (complete on '
                || strftime(attached_date + to_months(months), '%-d %b %Y') || ')'
            when n_baseline = 0 then 'no ' || what || ' in the ' || months
                || ' months to attachment: no fall can be shown'
            when not is_reduced then what || ' ' || n_baseline || ' → ' || n_outcome
                || ': a ' || printf('%.0f%%', min_reduction) || ' fall is needed'
        end as missing
    from judged
),

final as (
    select family_id, component, is_met, shown, missing from education
    union all
    select family_id, component, is_met, shown, missing from reduction_rows
)

select * from final order by family_id, component
