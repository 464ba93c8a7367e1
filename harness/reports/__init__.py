"""Reports: result.json, junit.xml, summaries, and merging shards."""
