-- std_addresses: one row per distinct (address, postcode) written in a person record or
-- the gazetteer, parsed into flat, house number, street and locality (the words after
-- the street: district and town), with the household key.
--
-- Addresses are upper-cased, punctuation dropped and street words expanded (RD -> ROAD);
-- "2/14 Church Rd", "Flat 2, 14 Church Road", "14 Flat 2 Church Road" and "Apartment 2,
-- 14 Church Road" all parse to flat 2, number 14; a house name before the number is
-- dropped ("Rose Cottage, 12 Oak Road" is number 12, Oak Road).
-- The key is postcode + number + flat + first street word: robust to abbreviations and
-- a missing town, and never joins two flats of one building (the flat is in the key).
-- Without a postcode the key falls back to the whole street name (the households step's
-- address_matches then adopts the place of the one postcoded address that agrees on
-- number, flat and street).
with written as (
    select distinct address, postcode from std_person_records
    where address is not null or postcode is not null
    union
    select distinct address, postcode from stg_gazetteer
),

words as (
    select map(list(word), list(standard)) as standard_of from ref_address_words
),

street_types as (
    select list(distinct word) as types from ref_address_words where is_street_type
),

cleaned as (
    select
        address,
        postcode,
        trim(regexp_replace(regexp_replace(
            regexp_replace(upper(strip_accents(coalesce(address, ''))),
                '^\s*(\d+[A-Z]?)\s*/\s*(\d+[A-Z]?)\b', 'FLAT \1 \2'),
            '[^A-Z0-9 ]', ' ', 'g'), '\s+', ' ', 'g')) as compact
    from written
),

expanded as (
    select
        address,
        postcode,
        array_to_string(
            list_transform(string_split(compact, ' '), w -> coalesce(words.standard_of[w], w)),
            ' ') as address_std
    from cleaned, words
),

parsed as (
    -- a flat comes first ("FLAT 11 157 PARK ROAD", "11 157 PARK ROAD") or after the
    -- building's number ("157 FLAT 11 PARK ROAD"); APARTMENT, APT and FLT read as FLAT
    select
        address,
        postcode,
        address_std,
        coalesce(
            nullif(regexp_extract(address_std, '^FLAT ([A-Z0-9]+) ', 1), ''),
            nullif(regexp_extract(address_std, '^\d+[A-Z]? FLAT ([A-Z0-9]+) ', 1), ''),
            nullif(regexp_extract(address_std, '^(\d+[A-Z]?) \d+[A-Z]? ', 1), '')
        ) as flat,
        regexp_replace(regexp_replace(regexp_replace(address_std, '^FLAT [A-Z0-9]+ ', ''),
            '^(\d+[A-Z]?) FLAT [A-Z0-9]+ ', '\1 '),
            '^\d+[A-Z]? (\d+[A-Z]? )', '\1') as after_flat
    from expanded
),

unnamed as (
    -- a house name before the number ("ROSE COTTAGE 12 OAK ROAD") is not the street
    select
        * replace (case when regexp_matches(after_flat, '^[A-Z][A-Z ]*? \d+[A-Z]? [A-Z]')
            then regexp_extract(after_flat, '^[A-Z][A-Z ]*? (\d+[A-Z]? .*)$', 1)
            else after_flat end as after_flat)
    from parsed
),

numbered as (
    select
        *,
        nullif(regexp_extract(after_flat, '^(\d+[A-Z]?)\b', 1), '') as house_number,
        trim(regexp_replace(after_flat, '^\d+[A-Z]?\b', '')) as rest
    from unnamed
),

street_ends as (
    -- the street runs to its last street word ("Park Avenue" is an avenue)
    select
        n.*,
        list_max(list_transform(words,
            (w, i) -> case when list_contains(t.types, w) then i end)) as street_end
    from (select *, string_split(rest, ' ') as words from numbered) as n, street_types as t
),

typed as (
    select
        *,
        nullif(array_to_string(words[1:street_end], ' '), '') as street_to_type,
        nullif(array_to_string(words[street_end + 1:], ' '), '') as locality
    from street_ends
),

final as (
    select
        address,
        postcode,
        address_std,
        flat,
        house_number,
        coalesce(street_to_type, rest) as street,
        words[street_end] as street_type,
        locality,
        case
            when address_std = '' then null
            when postcode is not null then concat_ws('|', postcode, house_number, flat,
                split_part(rest, ' ', 1))
            when address_std <> '' then concat_ws('|', '', house_number, flat,
                coalesce(street_to_type, rest))
        end as address_key
    from typed
)

select * from final
