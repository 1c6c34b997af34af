"""sen.ingest"""
