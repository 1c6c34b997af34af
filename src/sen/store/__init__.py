"""sen.store"""
