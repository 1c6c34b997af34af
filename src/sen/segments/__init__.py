"""sen.segments: rule language, compiler, snapshots, exports and audience sync."""
