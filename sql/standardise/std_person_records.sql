-- std_person_records: one row per staged person-level source record, in one shape.
-- record_date is the record's own date, which decides a person's current address
-- (rules.md): term end for school records, disposal for offences, the incident or
-- intervention date for ASB, the claim end (or the as-of date while in payment) for
-- benefits, the recorded date for local indicators; never later than the as-of date.
with attendance as (
    select
        'school_attendance' as extract, a.source_row, a.forename, a.surname, a.date_of_birth,
        a.gender, a.address, a.postcode, a.uprn,
        least(t.term_end_date, $as_of::date) as record_date
    from stg_school_attendance as a
    left join ref_terms as t using (academic_year, term)
),

exclusions as (
    select
        'school_exclusions' as extract, source_row, null as forename, null as surname,
        null::date as date_of_birth, null as gender, null as address, null as postcode,
        null as uprn, start_date as record_date
    from stg_school_exclusions
),

offences as (
    select
        'police_offences' as extract, source_row, forename, surname, date_of_birth, gender,
        address, postcode, uprn, disposal_date as record_date
    from stg_police_offences
),

asb as (
    select
        'asb' as extract, source_row, forename, surname, date_of_birth, gender,
        address, postcode, uprn, asb_date as record_date
    from stg_asb
),

benefits as (
    select
        'benefits' as extract, source_row, forename, surname, date_of_birth, gender,
        address, postcode, uprn,
        least(coalesce(claim_end_date, $as_of::date), $as_of::date) as record_date
    from stg_benefits
),

indicators as (
    select
        'local_indicators' as extract, source_row, forename, surname, date_of_birth, gender,
        address, postcode, uprn, recorded_date as record_date
    from stg_local_indicators
),

unioned as (
    select * from attendance
    union all select * from exclusions
    union all select * from offences
    union all select * from asb
    union all select * from benefits
    union all select * from indicators
),

final as (
    select
        extract || ':' || source_row as record_id,
        extract,
        source_row,
        forename,
        surname,
        date_of_birth,
        gender,
        address,
        postcode,
        uprn,
        record_date,
        name_std(forename) as forename_std,
        name_std(regexp_extract(forename, '^\s*([^\s-]+)')) as forename_first_std,
        name_std(surname) as surname_std,
        -- who the person is without an identifier: carries ids between runs, never links
        case when name_std(surname) is not null and name_std(forename) is not null
                and date_of_birth is not null
            then concat_ws('|', name_std(surname), name_std(forename), date_of_birth)
        end as name_key
    from unioned
)

select * from final
