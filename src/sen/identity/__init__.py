"""sen.identity"""
