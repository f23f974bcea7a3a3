"""HOW it is shown: a results.json becomes report.html + summary.csv/.md (`render`), several
become a comparison (`compare`). Reads results files only, never re-runs anything."""
