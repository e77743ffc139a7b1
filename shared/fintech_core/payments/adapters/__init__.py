"""Provider adapters (one per personality, both behind payments.ports.PaymentProvider) and the
SQL repositories of the payments slice."""
