"""One module per recipe section: its option classes (one per `method`/`objective`/`kind`), their defaults,
checks, builders and records, registered in one `Registry` shape (`mlengine.sections.registry`)."""
