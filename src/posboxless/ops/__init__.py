"""Operations: installing the service, checking a till (doctor), metrics and support bundles."""
