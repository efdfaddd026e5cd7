module sysmsg

go 1.26
