/* placeholder: replaced by the trigger dispatcher */
