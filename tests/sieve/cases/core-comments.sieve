# a comment
/* a block
   comment */ keep; # trailing
/* another */
