"""sen.web"""
