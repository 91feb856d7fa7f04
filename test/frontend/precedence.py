# RUN: %mtc %s --emit=ast | FileCheck %s
def f(a, b, c):
    x = -2 ** 2
    x = 2 ** -1
    x = 2 ** 3 ** 2
    x = a + b * c
    x = (a + b) * c
    x = a | b ^ c & a << b + c
    x = not a < b and b or c
    x = a if b else c if a else b
    x = a < b < c
    x = a is not b
    x = a not in b
    x = ~a @ b // c % a
    x = x[1:2:3], x[::], x[:, None], x[None, :], x[i, j], x[i,]
    x = (), (a,), [a, b], [], 'ab' "cd"
    x = a.b.c(d)(e)[f]

# CHECK: (Assign @3:5 (Name x @3:5) = (UnaryOp - @3:9 (BinOp ** @3:10 (Int 2 @3:10) (Int 2 @3:15))))
# CHECK: (Assign @4:5 (Name x @4:5) = (BinOp ** @4:9 (Int 2 @4:9) (UnaryOp - @4:14 (Int 1 @4:15))))
# CHECK: (Assign @5:5 (Name x @5:5) = (BinOp ** @5:9 (Int 2 @5:9) (BinOp ** @5:14 (Int 3 @5:14) (Int 2 @5:19))))
# CHECK: (Assign @6:5 (Name x @6:5) = (BinOp + @6:9 (Name a @6:9) (BinOp * @6:13 (Name b @6:13) (Name c @6:17))))
# CHECK: (Assign @7:5 (Name x @7:5) = (BinOp * @7:9 (BinOp + @7:10 (Name a @7:10) (Name b @7:14)) (Name c @7:19)))
# CHECK: (Assign @8:5 (Name x @8:5) = (BinOp | @8:9 (Name a @8:9) (BinOp ^ @8:13 (Name b @8:13) (BinOp & @8:17 (Name c @8:17) (BinOp << @8:21 (Name a @8:21) (BinOp + @8:26 (Name b @8:26) (Name c @8:30)))))))
# CHECK: (Assign @9:5 (Name x @9:5) = (BoolOp or @9:9 (BoolOp and @9:9 (UnaryOp not @9:9 (Compare @9:13 (Name a @9:13) < (Name b @9:17))) (Name b @9:23)) (Name c @9:28)))
# CHECK: (Assign @10:5 (Name x @10:5) = (IfExp @10:9 (Name a @10:9) (Name b @10:14) (IfExp @10:21 (Name c @10:21) (Name a @10:26) (Name b @10:33))))
# CHECK: (Assign @11:5 (Name x @11:5) = (Compare @11:9 (Name a @11:9) < (Name b @11:13) < (Name c @11:17)))
# CHECK: (Compare @12:9 (Name a @12:9) is not (Name b @12:18))
# CHECK: (Compare @13:9 (Name a @13:9) not in (Name b @13:18))
# CHECK: (Assign @14:5 (Name x @14:5) = (BinOp % @14:9 (BinOp // @14:9 (BinOp @ @14:9 (UnaryOp ~ @14:9 (Name a @14:10)) (Name b @14:14)) (Name c @14:19)) (Name a @14:23)))
# CHECK: (Subscript @15:9 (Name x @15:9) (Slice @15:11 (Int 1 @15:11) (Int 2 @15:13) (Int 3 @15:15))) (Subscript @15:19 (Name x @15:19) (Slice @15:21 _ _ _))
# CHECK-SAME: (Subscript @15:26 (Name x @15:26) (Tuple @15:28 (Slice @15:28 _ _ _) (None @15:31)))
# CHECK-SAME: (Subscript @15:38 (Name x @15:38) (Tuple @15:40 (None @15:40) (Slice @15:46 _ _ _)))
# CHECK-SAME: (Subscript @15:50 (Name x @15:50) (Tuple @15:52 (Name i @15:52) (Name j @15:55)))
# CHECK-SAME: (Subscript @15:59 (Name x @15:59) (Tuple @15:61 (Name i @15:61)))
# CHECK: (Assign @16:5 (Name x @16:5) = (Tuple @16:9 (Tuple @16:9) (Tuple @16:13 (Name a @16:14)) (List @16:19 (Name a @16:20) (Name b @16:23)) (List @16:27) (String "abcd" @16:31)))
# CHECK: (Assign @17:5 (Name x @17:5) = (Subscript @17:9 (Call @17:9 (Call @17:9 (Attribute c @17:9 (Attribute b @17:9 (Name a @17:9))) (Name d @17:15)) (Name e @17:18)) (Name f @17:21)))
