-- Macros shared by the SQL steps. Pure functions of their arguments; no data.

-- Names: upper case, accents folded, everything but letters removed ("O'Brien" -> OBRIEN).
create or replace macro name_std(x) as
    nullif(regexp_replace(upper(strip_accents(x)), '[^A-Z]', '', 'g'), '');

-- Age in whole years on date d (a 29 February birthday falls on 1 March in other years).
create or replace macro age_on(dob, d) as
    date_diff('year', dob, d)
    - case when month(d) * 100 + day(d) < month(dob) * 100 + day(dob) then 1 else 0 end;

-- "In the n months up to as_of": as_of - n months < d <= as_of.
create or replace macro in_months(d, as_of, n) as
    d > as_of - to_months(n) and d <= as_of;

-- Two localities (the words after an address's street: "OXTON BIRKENHEAD") that could be
-- one place: either missing, or a word in common ("BIRKENHEAD"; "WALLASEY WIRRAL" and
-- "WALLASEY"). Two towns of one county ("WIRRAL") pass too, and are then told apart no
-- better than without the locality.
create or replace macro same_locality(a, b) as
    a is null or b is null
    or len(list_intersect(string_split(a, ' '), string_split(b, ' '))) > 0;

-- Two dates of birth one person could have been recorded with: the same, day and month
-- swapped, or one digit slipped, counting the decade digit of a two-digit year (2008
-- keyed as 98 is 1998, three digits apart written in full). Unknown counts as
-- compatible: nothing says otherwise.
create or replace macro dob_compatible(a, b) as
    a is null or b is null
    or strftime(a, '%Y%m%d') = strftime(b, '%Y%d%m')
    or damerau_levenshtein(strftime(a, '%Y%m%d'), strftime(b, '%Y%m%d')) <= 1
    or (abs(year(a) - year(b)) = 10 and month(a) = month(b) and day(a) = day(b));

-- The household key of a person screened as a household of their own (an address that
-- could be several places, none decided: persons.sql), and the test for one.
create or replace macro own_household(person_id) as 'P:' || person_id;
create or replace macro is_own_household(household_key) as
    starts_with(household_key, 'P:');

-- Names as the Gateway team reads them: as written at source, unless the source shouts
-- (all capitals) or whispers (all lower case); then each word and each part after a
-- hyphen or apostrophe gets a capital (O'Brien, Smith-Jones, D'Arcy), Mc names a second
-- (McDonald) and Mac names one when at least four letters follow and the name is not one
-- usually written without (MacDonald, MacLeod; Mackie, Machin, Macey, Mackintosh). The
-- source's own mixed case is never changed (Mcdonald stays), nor is anything but letters,
-- spaces, dots, hyphens and apostrophes (a name written as a formula is shown as written).
create or replace macro name_word(w) as
    case
        when regexp_matches(w, '^mc[a-z]{2,}$') then 'Mc' || upper(w[3]) || w[4:]
        when regexp_matches(w, '^mac[a-z]{4,}$') and not regexp_matches(w, '[aciozj]$')
            and w not in ('macaulay', 'machell', 'machlin', 'macklin', 'mackintosh',
                'mackmin', 'macomber', 'macquarie', 'macevicius', 'maciulis')
            then 'Mac' || upper(w[4]) || w[5:]
        else upper(w[1]) || w[2:]
    end;
create or replace macro display_name(x) as
    case
        when x is null or (x <> upper(x) and x <> lower(x))
            or not regexp_full_match(x, '[\p{L} .''’-]+') then x
        else array_to_string(list_transform(
            regexp_extract_all(lower(x), '[^ ''’-]+|[ ''’-]+'), w -> name_word(w)), '')
    end;

-- Dates read aloud, each after its label (labels may be empty): the year once at the end
-- of each run of dates within it ("16 Sep, 21 Oct 2024, 4 Feb 2025"). Both lists in the
-- order to read, one label per date.
create or replace macro date_list(labels, dates) as
    array_to_string(list_transform(range(1, len(dates) + 1), i ->
        ltrim(coalesce(labels[i], '') || ' ' || strftime(dates[i], '%-d %b')
            || case when i = len(dates) or year(dates[i + 1]) <> year(dates[i])
                    then strftime(dates[i], ' %Y') else '' end)), ', ');
