"""Card payment terminals (Ingenico/Verifone Telium) for the OCA module pos_payment_terminal."""
