"""The model: event log, filters, meeting tracker, archive. No Textual here."""
