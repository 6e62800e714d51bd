-- pbr_employment: one row per adult of an attached family who was on an out-of-work
-- benefit on the attachment date: the benefits then and now, the longest unbroken
-- employment since attachment (overlapping or adjoining spells merged) and the weeks
-- needed (fewer for a former claimant of some benefits, e.g. 13 for JSA).
with adults as (
    select * from pbr_members where identified_role = 'adult'
),

claims as (
    select m.family_id, m.person_id, m.member_label, s.source_row, s.benefit,
        s.claim_start_date, s.claim_end_date
    from adults as m
    join person_records as pr on pr.person_id = m.person_id and pr.extract = 'benefits'
    join stg_benefits as s on s.source_row = pr.source_row
    where s.benefit in (select unnest($ce_benefits))
),

special_weeks as (
    select unnest($ce_special_benefits) as benefit, unnest($ce_special_weeks) as weeks
),

at_attachment as (
    select c.family_id, c.person_id, c.member_label, a.attached_date,
        string_agg(distinct upper(c.benefit), ', ') as benefits_then,
        string_agg(distinct c.source_row::varchar, ', ') as benefit_rows,
        coalesce(min(w.weeks), $ce_weeks) as weeks_needed
    from claims as c
    join pbr_attachments as a using (family_id)
    left join special_weeks as w using (benefit)
    where c.claim_start_date <= a.attached_date
        and (c.claim_end_date is null or c.claim_end_date >= a.attached_date)
    group by c.family_id, c.person_id, c.member_label, a.attached_date
),

on_now as (
    select family_id, person_id, string_agg(distinct upper(benefit), ', ') as benefits_now
    from claims
    where claim_start_date <= $as_of::date
        and (claim_end_date is null or claim_end_date >= $as_of::date)
    group by family_id, person_id
),

spells as (
    select t.family_id, t.person_id, e.source_row,
        greatest(e.start_date, t.attached_date) as spell_start,
        least(coalesce(e.end_date, $as_of::date), $as_of::date) as spell_end
    from at_attachment as t
    join person_keys as k on k.person_id = t.person_id and k.key_type = 'nino'
    join stg_employment as e on e.nino = k.key_value
    where e.kind in (select unnest($ce_kinds))
        and coalesce(e.end_date, $as_of::date) >= t.attached_date
        and e.start_date <= $as_of::date
),

ordered as (
    select *,
        max(spell_end) over (partition by family_id, person_id order by spell_start, spell_end
            rows between unbounded preceding and 1 preceding) as previous_end
    from spells
),

islands as (
    select *,
        sum(case when previous_end is null or spell_start > previous_end + 1 then 1 else 0 end)
            over (partition by family_id, person_id order by spell_start, spell_end
                rows unbounded preceding) as island
    from ordered
),

runs_of_work as (
    select family_id, person_id, island, min(spell_start) as start_date,
        max(spell_end) as end_date, max(spell_end) - min(spell_start) + 1 as n_days,
        string_agg(source_row::varchar, ', ' order by spell_start) as employment_rows
    from islands
    group by family_id, person_id, island
),

longest as (
    select family_id, person_id,
        arg_max(start_date, n_days) as start_date, arg_max(end_date, n_days) as end_date,
        max(n_days) as n_days, arg_max(employment_rows, n_days) as employment_rows
    from runs_of_work
    group by family_id, person_id
),

final as (
    select
        t.family_id, t.person_id, t.member_label, t.attached_date, t.benefits_then,
        t.benefit_rows, n.benefits_now, t.weeks_needed,
        l.start_date as employment_start_date, l.end_date as employment_end_date,
        coalesce(l.n_days, 0) as n_days_employed, l.employment_rows,
        n.benefits_now is null and coalesce(l.n_days, 0) >= 7 * t.weeks_needed as is_met
    from at_attachment as t
    left join on_now as n using (family_id, person_id)
    left join longest as l using (family_id, person_id)
)

select * from final order by family_id, person_id
