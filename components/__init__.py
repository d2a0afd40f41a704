"""Pure UI builders: DataFrames and plain values in, Dash components and figures out."""
