-- persons: one row per linked person with their best-known identity and current address.
-- Identity: each attribute as most of the person's records give it (ties to the newest
-- record), so one record's typo or slipped date of birth does not become the person's.
-- Current address: the address of the newest dated record that gives one (rules.md); a
-- record's own UPRN wins over the gazetteer match. A record written without a postcode
-- takes the place of the person's own postcoded record of the same flat, number and
-- street (a school writes the postcode in one term and drops it the next: the same home,
-- not a second household). Ties on date go to a located record, then the lower extract
-- name, then the later row, so the choice is deterministic.
with matched as (
    select
        pr.person_id,
        r.*,
        case when r.uprn is not null then 'U:' || r.uprn else m.household_key end
            as household_key,
        coalesce(r.uprn, m.uprn) as located_uprn,
        m.flat,
        m.house_number,
        m.street,
        m.locality,
        coalesce(m.ambiguous, false) as ambiguous,
        -- set only on a record to complete: written without a postcode or its own UPRN
        case when r.postcode is null and r.uprn is null then pr.person_id end
            as completes_person
    from person_records as pr
    join std_person_records as r using (record_id)
    left join std_address_matches as m
        on m.address is not distinct from r.address
        and m.postcode is not distinct from r.postcode
),

own_postcoded as (
    -- the newest postcoded record of each flat, number and street the person gives
    select
        person_id,
        coalesce(flat, '') as flat_key,
        coalesce(house_number, '') as number_key,
        street,
        household_key,
        located_uprn,
        postcode
    from matched
    where postcode is not null and household_key is not null and street is not null
    qualify row_number() over (
        partition by person_id, coalesce(flat, ''), coalesce(house_number, ''),
            street
        order by record_date desc, extract, source_row desc) = 1
),

records as (
    select
        m.* replace (
            coalesce(o.household_key, m.household_key) as household_key,
            coalesce(o.located_uprn, m.located_uprn) as located_uprn,
            coalesce(m.postcode, o.postcode) as postcode
        )
    from matched as m
    left join own_postcoded as o
        on o.person_id = m.completes_person
        and o.street = m.street
        and o.flat_key = coalesce(m.flat, '')
        and o.number_key = coalesce(m.house_number, '')
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

newest_address as (
    -- the newest record naming a household; failing one, the newest whose address is
    -- ambiguous (no postcode, and several places it could be)
    select
        person_id,
        address,
        postcode,
        located_uprn as uprn,
        household_key,
        record_date as address_date,
        coalesce(flat, '') as flat_key,
        coalesce(house_number, '') as number_key,
        street,
        locality
    from records
    where household_key is not null or ambiguous
    qualify row_number() over (
        partition by person_id
        order by household_key is null, record_date desc, located_uprn is null, extract,
            source_row desc) = 1
),

homes as (
    select a.*, i.surname_key
    from newest_address as a
    join identity as i using (person_id)
),

place_localities as (
    -- every town a household is written with (each address key's towns, from person
    -- records and the gazetteer): one member's "3/55 Fairby Street" names none, but the
    -- place is in Blackburn
    select household_key, string_agg(distinct key_locality, ' ') as locality
    from std_address_matches
    where household_key is not null and key_locality is not null
    group by household_key
),

placed as (
    -- an ambiguous address is the one of its places where someone of the same surname
    -- lives: a partner's benefit claim without a postcode, the children's school records
    -- with one (in the same locality, where both name one). A surname spelt the same
    -- decides; failing one, a surname a typo away (Jaro-Winkler at least 0.92, the
    -- model's close-name level). With none or several such places, the person is a
    -- household of their own
    select person_id, case when n_same = 1 then same_key else close_key end as household_key
    from (
        select
            a.person_id,
            count(distinct o.household_key) filter (where a.surname_key = o.surname_key)
                as n_same,
            min(o.household_key) filter (where a.surname_key = o.surname_key) as same_key,
            count(distinct o.household_key) as n_close,
            min(o.household_key) as close_key
        from homes as a
        join homes as o using (flat_key, number_key, street)
        left join place_localities as l on l.household_key = o.household_key
        where a.household_key is null and o.household_key is not null
            and same_locality(a.locality, l.locality)
            and jaro_winkler_similarity(a.surname_key, o.surname_key) >= 0.92
        group by a.person_id
    )
    where n_same = 1 or (n_same = 0 and n_close = 1)
),

current_address as (
    select
        a.* exclude (household_key, flat_key, number_key, street, locality),
        coalesce(a.household_key, p.household_key, own_household(a.person_id))
            as household_key
    from newest_address as a
    left join placed as p using (person_id)
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
        i.date_of_birth,
        i.gender,
        age_on(i.date_of_birth, $as_of::date) as age,
        a.address,
        a.postcode,
        a.uprn,
        a.household_key,
        a.address_date,
        cast(i.n_records as integer) as n_records,
        k.upn,
        k.nino,
        k.police_ref,
        k.asb_ref
    from identity as i
    left join current_address as a using (person_id)
    left join identifiers as k using (person_id)
)

select * from final
