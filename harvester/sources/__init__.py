"""Sources: one module per service, each turning API answers into ``PaperRecord``s."""
