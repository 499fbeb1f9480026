/* placeholder: replaced by the time-zone implementation */
