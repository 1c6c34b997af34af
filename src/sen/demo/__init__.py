"""sen.demo"""
