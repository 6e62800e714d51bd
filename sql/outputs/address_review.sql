-- address_review.csv: one row per address (as written, with its postcode) that no
-- gazetteer property was found for, most records first, with the properties it could be.
select
    address,
    postcode,
    n_records,
    unresolved_reason,
    array_to_string(candidates, ' | ') as candidates
from address_review
order by n_records desc, address, postcode
