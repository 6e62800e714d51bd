-- person_identities: one row per linked person with their best-known identity and their
-- identifiers (the households step adds where they live: households/persons.sql).
-- Identity: each attribute as most of the person's records give it (ties to the newest
-- record), so one record's typo or slipped date of birth does not become the person's.
-- surname_key is the voted surname's standard form, which households compare.
with records as (
    select pr.person_id, r.*
    from person_records as pr
    join std_person_records as r using (record_id)
),

ranked as (
    -- each record's place among the person's records, newest first: every vote's tie-break
    -- (only the voted columns: a window carries every column it is given through its sort)
    select
        person_id,
        forename,
        forename_std,
        surname,
        surname_std,
        date_of_birth,
        gender,
        row_number() over (
            partition by person_id order by record_date desc, extract, source_row desc
        ) as recency
    from records
),

given as (
    -- one row per value a record gives: the attribute, the form its votes are counted by
    -- (a name's standard form) and the record's own spelling; a date travels as ISO text
    select person_id, recency, 'forename' as attribute, forename_std as vote_key,
        forename as shown
    from ranked where forename is not null
    union all
    select person_id, recency, 'surname', surname_std, surname
    from ranked where surname is not null
    union all
    select person_id, recency, 'date_of_birth', cast(date_of_birth as varchar),
        cast(date_of_birth as varchar)
    from ranked where date_of_birth is not null
    union all
    select person_id, recency, 'gender', gender, gender
    from ranked where gender is not null
),

voted as (
    -- each attribute: the value most records give, ties to the one given by the newest
    -- record, shown as that newest record spells it
    select person_id, attribute, first(shown order by votes desc, newest) as value,
        first(vote_key order by votes desc, newest) as value_key
    from (
        select person_id, attribute, vote_key, count(*) as votes, min(recency) as newest,
            arg_min(shown, recency) as shown
        from given group by person_id, attribute, vote_key
    )
    group by person_id, attribute
),

identity as (
    select
        n.person_id,
        any_value(v.value) filter (where v.attribute = 'forename') as forename,
        any_value(v.value) filter (where v.attribute = 'surname') as surname,
        any_value(v.value_key) filter (where v.attribute = 'surname') as surname_key,
        cast(any_value(v.value) filter (where v.attribute = 'date_of_birth') as date)
            as date_of_birth,
        any_value(v.value) filter (where v.attribute = 'gender') as gender,
        any_value(n.n_records) as n_records
    from (select person_id, count(*) as n_records from records group by person_id) as n
    left join voted as v using (person_id)
    group by n.person_id
),

identifiers as (
    -- each identifier once, in order, ';' between (distinct values first and each short
    -- list sorted after: an aggregate's own distinct and order by sort every group)
    select
        person_id,
        array_to_string(list_sort(list(key_value) filter (where key_type = 'upn')), ';')
            as upn,
        array_to_string(list_sort(list(key_value) filter (where key_type = 'nino')), ';')
            as nino,
        array_to_string(list_sort(list(key_value) filter (where key_type = 'police_ref')),
            ';') as police_ref,
        array_to_string(list_sort(list(key_value) filter (where key_type = 'asb_ref')), ';')
            as asb_ref
    from (select distinct person_id, key_type, key_value from person_keys)
    group by person_id
),

final as (
    select
        i.person_id,
        i.forename,
        i.surname,
        i.surname_key,
        i.date_of_birth,
        i.gender,
        age_on(i.date_of_birth, $as_of::date) as age,
        cast(i.n_records as integer) as n_records,
        k.upn,
        k.nino,
        k.police_ref,
        k.asb_ref
    from identity as i
    left join identifiers as k using (person_id)
)

select * from final
