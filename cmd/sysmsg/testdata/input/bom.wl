pipe a capacity x
