-- pbr_education: one row per (attached family, child, school term record) over the last
-- N complete terms at the claims as-of date, with the child's totals: sessions possible,
-- unauthorised, the rate, and suspensions since the first of those terms.
with window_terms as (
    select * from ref_terms
    where term_end_date <= $as_of::date
    order by term_seq desc
    limit $edu_terms
),

children as (
    select family_id, person_id, member_label from pbr_members
    where age < 18 or (age is null and identified_role = 'child')
),

terms as (
    select c.family_id, c.person_id, c.member_label, s.source_row, w.term_label, w.term_seq,
        s.sessions_possible, s.sessions_unauthorised_absence
    from children as c
    join person_records as pr
        on pr.person_id = c.person_id and pr.extract = 'school_attendance'
    join stg_school_attendance as s on s.source_row = pr.source_row
    join window_terms as w using (academic_year, term)
),

suspensions as (
    select c.family_id, c.person_id, count(*) as n_suspensions,
        string_agg(strftime(x.start_date, '%-d %b %Y') || ' (row ' || x.source_row || ')',
            ', ' order by x.start_date) as suspension_dates
    from children as c
    join person_records as pr
        on pr.person_id = c.person_id and pr.extract = 'school_exclusions'
    join stg_school_exclusions as x on x.source_row = pr.source_row
    where x.category in (select unnest($edu_categories))
        and x.start_date >= (select min(term_start_date) from window_terms)
        and x.start_date <= $as_of::date
    group by c.family_id, c.person_id
),

final as (
    select
        t.*,
        sum(t.sessions_possible) over per_child as n_possible,
        sum(t.sessions_unauthorised_absence) over per_child as n_unauthorised,
        coalesce(s.n_suspensions, 0) as n_suspensions,
        s.suspension_dates
    from terms as t
    left join suspensions as s using (family_id, person_id)
    window per_child as (partition by t.family_id, t.person_id)
)

select * from final order by family_id, person_id, term_seq
