this is not sieve
