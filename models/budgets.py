"""Budget rounds of bodies (Jugendparlament, Seniorenbeirat ...): items, ballots, results."""
