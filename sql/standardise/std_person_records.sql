-- std_person_records: one row per staged person-level source record, in one shape.
-- record_date is the record's own date, which decides a person's current address
-- (rules.md), never later than the as-of date; each extract's declaration says which
-- (schemas/extracts.py, `person`): term end for school records, disposal for offences,
-- the incident or intervention date for ASB, the claim end (or the as-of date while in
-- payment) for benefits, the recorded date for local indicators. The extracts come from
-- their declarations (a Jinja loop below: names only, values stay parameters).
with unioned as (
{%- for x in person_extracts %}
{%- if not loop.first %}

    union all
{% endif %}
    select
        '{{ x.name }}' as extract,
        s.source_row,
{%- if x.person.named %}
        s.forename, s.surname, s.date_of_birth, s.gender, s.address, s.postcode, s.uprn,
{%- else %}
        null as forename, null as surname, null::date as date_of_birth, null as gender,
        null as address, null as postcode, null as uprn,
{%- endif %}
        {{ x.person.record_date }} as record_date
    from stg_{{ x.name }} as s{% if x.person.join %} {{ x.person.join }}{% endif %}
{%- endfor %}
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
